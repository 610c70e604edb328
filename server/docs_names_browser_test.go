package server

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/rollout"
)

// serveNamesSplit serves serveNamesModels' registry with a second version
// of "fraud" taking 10% of its requests as a canary.
func serveNamesSplit(t *testing.T) *testServer {
	t.Helper()
	ts, dir := serveNamesModels(t)
	b := docsClassifier.Model().Marshal()
	testenv.PlaceVersion(t, dir, "fraud", 2, b, strings.TrimSuffix(testenv.Manifest(b), "}")+`, "features": `+docsFeatures+
		`, "classes": ["legit", "fraud"], "unknown_fields": "reject"}`)
	st := `{"stable": 1, "candidate": 2, "strategy": "canary", "step": 1, "weight": 1000, "actor": "test", "reason": "canary"}`
	if err := os.WriteFile(filepath.Join(dir, "fraud", rollout.StateFile), []byte(st), 0o644); err != nil {
		t.Fatal(err)
	}
	until(t, "the canary split", func() bool { return ts.store.Table().Route("fraud").NumArms() == 2 })
	return ts
}

// TestDocsServingData reads what /docs says serves each model: the
// routing table as it stands when the page is served, in a data block
// the page's script reads.
func TestDocsServingData(t *testing.T) {
	ts := serveNamesSplit(t)
	page := string(ts.do(t, "GET", "/docs", "").body)
	const open = `<script type="application/json" id="serving">`
	_, rest, ok := strings.Cut(page, open)
	data, _, ok2 := strings.Cut(rest, "</script>")
	if !ok || !ok2 {
		t.Fatalf("the page has no serving data block:\n%.400s", page)
	}
	var got []servingModel
	if err := json.Unmarshal([]byte(data), &got); err != nil {
		t.Fatalf("the serving data %q: %v", data, err)
	}
	want := []servingModel{
		{Model: "amounts", Arms: []servingArm{{Version: "1", Weight: 10000}}},
		{Model: "fraud", Arms: []servingArm{{Version: "2", Weight: 1000}, {Version: "1", Weight: 9000}}},
		{Model: "names", Arms: []servingArm{{Version: "1", Weight: 10000}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the serving data = %+v; want %+v", got, want)
	}
}

// TestDocsPageNamesInBrowser loads /docs in headless Chromium with a
// model whose field names hold spaces, dots, accents, another script,
// quotes and markup: they are shown as text, nothing they hold becomes an
// element, the form starts from eval.csv's first row and sends it, a
// 422's problems find their inputs; the page says which versions serve at
// which share; and endpoints of the server's document can be tried.
func TestDocsPageNamesInBrowser(t *testing.T) {
	tab, pageErrors := browserTab(t)
	ts := serveNamesSplit(t)
	if err := chromedp.Do(tab,
		chromedp.Navigate(ts.url+"/docs"),
		chromedp.Poll[chromedp.Void](`document.body.dataset.loaded === "true"`, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.WaitVisible(chromedp.CSS(`form[data-model="names"]`)),
	); err != nil {
		t.Fatalf("the docs page did not render the names form: %v (page errors: %v)", err, pageErrors())
	}

	// The names as text, in schema order; the markup in a name and a
	// description made no element.
	cells, err := chromedp.Run(tab, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('#model-names table.fields tbody tr')].map((tr) => tr.cells[0].querySelector("code").textContent + "|" + tr.dataset.field)`))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range []string{nameSepal, nameDot, nameCafe, nameJapan, nameQuote, nameScript} {
		want = append(want, n+"|"+n)
	}
	if !reflect.DeepEqual(cells, want) {
		t.Fatalf("the fields of names = %q; want %q", cells, want)
	}
	injected, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll("img, b, main script").length`))
	if err != nil || injected != 0 {
		t.Fatalf("the page holds %d elements made from names or descriptions (%v)", injected, err)
	}

	// The form starts from eval.csv's first row and sends it.
	got, sent := sendFromPage(t, tab, "names")
	var sentJSON any
	_ = json.Unmarshal([]byte(sent), &sentJSON)
	if want := map[string]any{"instances": []any{namesFirstRow}}; !reflect.DeepEqual(sentJSON, want) {
		t.Fatalf("the page sent %s; want eval.csv's first row, %v", sent, want)
	}
	direct := ts.do(t, "POST", "/v1/models/names:predict", sent)
	var ans recPredictResponse
	if err := json.Unmarshal(direct.body, &ans); err != nil || direct.status != 200 || got.Status != "200" || got.Label != ans.Predictions[0].Label {
		t.Fatalf("the page shows %+v; sent directly the request gets %d %s", got, direct.status, direct.body)
	}

	// A 422's problems are listed and shown next to their inputs, by name.
	bad := `{"instances":[{"sepal length (cm)":-1,"say \"hi\" \\o/":"yes","caf\u00e9":"non","日本":1}]}`
	if err := chromedp.Do(tab, chromedp.SetValue(chromedp.CSS(`form[data-model="names"] textarea`), bad)); err != nil {
		t.Fatal(err)
	}
	got, _ = sendFromPage(t, tab, "names")
	wantProblems := []string{nameSepal + " range", nameQuote + " type"}
	if got.Status != "422" || !reflect.DeepEqual(got.Problems, wantProblems) || len(got.Marked) != 2 ||
		got.Marked[nameSepal] == "" || got.Marked[nameQuote] == "" {
		t.Fatalf("the page shows %+v; want the problems %q, each next to its input", got, wantProblems)
	}

	// Which versions serve, at which share.
	serving, err := chromedp.Run(tab, chromedp.Evaluate[[]string](
		`["fraud", "names"].map((m) => document.querySelector("#model-" + m + " .serving").textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	wantServing := []string{
		"Requests are split: version 2 (canary) 10%, version 1 (stable) 90%. A request that names a version goes to it.",
		"Version 1 serves 100% of requests. A request that names a version goes to it.",
	}
	if !reflect.DeepEqual(serving, wantServing) {
		t.Fatalf("the page says %q; want %q", serving, wantServing)
	}

	// Endpoints of the server's document can be tried: the form starts
	// with a ready model, a version that serves it and its example.
	try := func(method, path string, set map[string]string, body string) (status, shown string) {
		t.Helper()
		li := `#endpoints li[data-method="` + method + `"][data-path="` + path + `"] `
		if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`(() => {
			const d = document.querySelector(`+jsString(li+"details.try")+`);
			d.open = true;
			d.closest("details.tag").open = true;
		})()`)); err != nil {
			t.Fatalf("%s %s has no try form: %v", method, path, err)
		}
		for name, v := range set {
			if err := chromedp.Do(tab, setControl(li+`input[name="`+name+`"]`, v)); err != nil {
				t.Fatal(err)
			}
		}
		if body != "" {
			if err := chromedp.Do(tab, chromedp.SetValue(chromedp.CSS(li+"textarea"), body)); err != nil {
				t.Fatal(err)
			}
		}
		if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS(li+`button[type="submit"]`))); err != nil {
			t.Fatal(err)
		}
		st, err := chromedp.Run(tab, chromedp.Poll[string](`(() => {
			const s = document.querySelector(`+jsString(li+".answer")+`).dataset.status;
			return s && s !== "pending" ? s : false;
		})()`, chromedp.WithPollingTimeout(15*time.Second)))
		if err != nil {
			t.Fatalf("%s %s: the page showed no answer: %v (page errors: %v)", method, path, err, pageErrors())
		}
		shown, err = chromedp.Run(tab, chromedp.Text(chromedp.CSS(li+".answer pre")))
		if err != nil {
			t.Fatal(err)
		}
		return st, shown
	}
	prefilled, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`(() => {
		const li = document.querySelector('#endpoints li[data-method="POST"][data-path="/v1/models/{model}/versions/{version}:predict"]');
		return [li.querySelector('input[name="model"]').value, li.querySelector('input[name="version"]').value, li.querySelector("textarea").value];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	var amountsExample any
	_ = json.Unmarshal([]byte(prefilled[2]), &amountsExample)
	if prefilled[0] != "amounts" || prefilled[1] != "1" || amountsExample == nil {
		t.Fatalf("the predict form starts with %q; want amounts, its version 1 and its example", prefilled)
	}
	if st, shown := try("POST", "/v1/models/{model}/versions/{version}:predict", nil, ""); st != "200" || !strings.Contains(shown, `"model_name": "amounts"`) {
		t.Fatalf("trying predict with its example: %s %s", st, shown)
	}
	if st, shown := try("POST", "/v1/models/{model}:predict", map[string]string{"model": "names"}, sent); st != "200" || !strings.Contains(shown, `"model_name": "names"`) {
		t.Fatalf("trying predict on names: %s %s", st, shown)
	}
	if st, shown := try("GET", "/v2/models/{model}", map[string]string{"model": "fraud"}, ""); st != "200" || !strings.Contains(shown, `"name": "fraud"`) {
		t.Fatalf("trying model metadata: %s %s", st, shown)
	}
	if st, _ := try("GET", "/v2/models/{model}", map[string]string{"model": "nope"}, ""); st != "404" {
		t.Fatalf("trying the metadata of no model: %s; want 404", st)
	}

	if errs := pageErrors(); len(errs) > 0 {
		t.Fatalf("the page reported errors:\n%s", strings.Join(errs, "\n"))
	}
}
