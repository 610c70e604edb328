package server

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browserTestTimeout bounds the whole browser test, Chromium's start
// included; it takes about two seconds.
const browserTestTimeout = 60 * time.Second

// chromePath returns the Chromium the browser test runs: $CHROME_PATH, or
// chromium or chromium-browser on the PATH; "" when there is none.
func chromePath() string {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserTab starts one headless Chromium and returns a tab in it, closed
// when the test ends or after browserTestTimeout, and the errors the page
// reports: uncaught exceptions, console.error calls and the browser's
// error log (a violation of the page's Content-Security-Policy among
// them), except network errors, since a 404 or 422 the page asks for is
// one. Without Chromium the test skips, except on CI (CI=true), where it
// fails: CI must run it, and `make test` installs Chromium there.
func browserTab(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	path := chromePath()
	if path == "" {
		const msg = "no Chromium (chromium or chromium-browser on the PATH, or $CHROME_PATH): " +
			"the docs page's browser test cannot run; `make chromium` installs it from Debian's packages as root"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.DisableGPU, chromedp.WindowSize(1280, 1024))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses to run as root
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserTestTimeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit and removes its profile
		cancel()
	})
	var mu sync.Mutex
	var errs []string
	err := chromedp.Listen(tab, func(ev any) { // starts the browser
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg = "exception: " + d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				msg = "console.error"
				for _, a := range ev.Args {
					msg += " " + string(a.Value) + a.Description
				}
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError && ev.Entry.Source != log.EntrySourceNetwork {
				msg = string(ev.Entry.Source) + ": " + ev.Entry.Text
			}
		}
		if msg != "" {
			mu.Lock()
			errs = append(errs, msg)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return tab, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(errs)
	}
}

// jsString quotes s as a JavaScript string.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// setControl sets the form control sel as a person changing it would:
// its value, then an input and a change event.
func setControl(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => {
		const e = document.querySelector(` + jsString(sel) + `);
		e.value = ` + jsString(value) + `;
		e.dispatchEvent(new Event("input", {bubbles: true}));
		e.dispatchEvent(new Event("change", {bubbles: true}));
	})()`)
}

// renderedAnswer is what the page shows of a predict answer.
type renderedAnswer struct {
	Status   string            `json:"status"`
	Label    string            `json:"label"`
	Probs    map[string]string `json:"probs"`
	ID       string            `json:"id"`
	Problems []string          `json:"problems"` // field and code of each problem listed
	Marked   map[string]string `json:"marked"`   // the problem shown next to each input marked invalid
	Body     string            `json:"body"`     // the answer body as shown
}

// sendFromPage clicks the form's send button, waits for the answer and
// returns what the page shows of it, with the body the page sent.
func sendFromPage(t *testing.T, tab context.Context, model string) (renderedAnswer, string) {
	t.Helper()
	form := `form[data-model="` + model + `"]`
	answer := `.answer[data-model="` + model + `"]`
	sent, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS(form+" textarea")))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS(form+` button[type="submit"]`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tab, chromedp.Poll[string](`(() => {
		const s = document.querySelector(`+jsString(answer)+`).dataset.status;
		return s && s !== "pending" ? s : false;
	})()`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("the page showed no answer: %v", err)
	}
	got, err := chromedp.Run(tab, chromedp.Evaluate[renderedAnswer](`(() => {
		const a = document.querySelector(`+jsString(answer)+`);
		const text = (sel) => { const e = a.querySelector(sel); return e ? e.textContent : ""; };
		const marked = {};
		for (const row of document.querySelectorAll(`+jsString(form+" .input.invalid")+`)) {
			marked[row.dataset.field] = row.querySelector(".problem").textContent;
		}
		return {
			status: a.dataset.status,
			label: text(".label"),
			probs: Object.fromEntries([...a.querySelectorAll(".prob")].map((p) => [p.dataset.class, p.querySelector(".p").textContent])),
			id: text("code.id"),
			problems: [...a.querySelectorAll("ul.problems li")].map((li) => li.dataset.field + " " + li.dataset.problem),
			marked,
			body: text("pre"),
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	return got, sent
}

// TestDocsPageInBrowser loads /docs in headless Chromium against a live
// server, checks that it lists each model's fields, sends records from
// the form and checks that it shows the server's answers: the same
// predictions as the same request sent directly, and a 422's problems,
// listed and next to their inputs.
func TestDocsPageInBrowser(t *testing.T) {
	tab, pageErrors := browserTab(t)
	ts := serveDocsModels(t)
	if err := chromedp.Do(tab,
		chromedp.Navigate(ts.url+"/docs"),
		chromedp.Poll[chromedp.Void](`document.body.dataset.loaded === "true"`, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.WaitVisible(chromedp.CSS(`form[data-model="fraud"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[data-model="amounts"]`)),
	); err != nil {
		t.Fatalf("the docs page did not render the models' forms: %v (page errors: %v)", err, pageErrors())
	}

	// The fields, in the schema's order, with what they allow.
	rows, err := chromedp.Run(tab, chromedp.Evaluate[[][]string](
		`[...document.querySelectorAll('#model-fraud table.fields tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent))`))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"amountrequired", "number", "0 to 10000", "", "The amount in dollars."},
		{"hour", "integer", "0 to 23", "12", "The hour of the day."},
		{"countryrequired", "category", "FR, DE, US", "", "The card's country."},
		{"is_foreign", "bool", "true, false", "false", ""},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("the fields table of fraud =\n%q\nwant\n%q", rows, want)
	}
	other, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[
		document.querySelector('#model-plain').textContent,
		document.querySelector('#status').textContent,
		document.querySelector('#endpoints li[data-method="POST"][data-path="/v2/models/{model}/infer"]').textContent,
		document.querySelector('#endpoints li[data-method="GET"][data-path="/api/2.0/mlflow/runs/get"]').textContent,
	]`))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"No feature schema", "3 models ready.", "POST /v2/models/{model}/infer", "GET /api/2.0/mlflow/runs/get"} {
		if !strings.Contains(other[i], want) {
			t.Fatalf("the page shows %q where it should show %q", other[i], want)
		}
	}
	// Each serving version links its model card, which the server serves.
	cards, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#model-fraud a.card')].map((a) => a.getAttribute("href"))`))
	if err != nil || !slices.Equal(cards, []string{"/v1/models/fraud/versions/1/card"}) {
		t.Fatalf("the card links of fraud = %q, %v; want version 1's", cards, err)
	}
	if r := ts.do(t, "GET", cards[0], ""); r.status != 200 || !strings.Contains(string(r.body), "# Model card: fraud version 1\n") {
		t.Fatalf("GET %s = %d\n%s", cards[0], r.status, r.body)
	}

	// A record typed into the form gets the answer the same request gets
	// when sent directly.
	form := `form[data-model="fraud"] `
	if err := chromedp.Do(tab,
		setControl(form+`input[name="amount"]`, ""),
		chromedp.SendKeys(chromedp.CSS(form+`input[name="amount"]`), "120.5"),
		chromedp.SendKeys(chromedp.CSS(form+`input[name="hour"]`), "3"),
		setControl(form+`select[name="country"]`, "US"),
		setControl(form+`select[name="is_foreign"]`, "true"),
	); err != nil {
		t.Fatal(err)
	}
	got, sent := sendFromPage(t, tab, "fraud")
	var sentJSON, wantJSON any
	_ = json.Unmarshal([]byte(sent), &sentJSON)
	_ = json.Unmarshal([]byte(`{"instances":[{"amount":120.5,"hour":3,"country":"US","is_foreign":true}]}`), &wantJSON)
	if !reflect.DeepEqual(sentJSON, wantJSON) {
		t.Fatalf("the page sent %s", sent)
	}
	direct := ts.do(t, "POST", "/v1/models/fraud:predict", sent)
	var ans struct {
		Predictions []struct {
			Label         string             `json:"label"`
			Probabilities map[string]float64 `json:"probabilities"`
		} `json:"predictions"`
		PredictionIDs []string `json:"prediction_ids"`
	}
	if err := json.Unmarshal(direct.body, &ans); err != nil || direct.status != 200 || len(ans.Predictions) != 1 {
		t.Fatalf("the request the page sent, sent directly: %d %s", direct.status, direct.body)
	}
	if got.Status != "200" || got.Label != ans.Predictions[0].Label || got.ID == "" || got.ID == ans.PredictionIDs[0] {
		t.Fatalf("the page shows %+v; sent directly the request gets %s (a prediction id of its own)", got, direct.body)
	}
	if len(got.Probs) != 2 {
		t.Fatalf("the page shows the probabilities %v", got.Probs)
	}
	for class, p := range ans.Predictions[0].Probabilities {
		shown, err := strconv.ParseFloat(got.Probs[class], 64)
		if err != nil || math.Abs(shown-p) > 1e-4 {
			t.Fatalf("the page shows %q for class %s, the server answers %v", got.Probs[class], class, p)
		}
	}

	// A record without its required fields gets the 422, its problems
	// listed and shown next to their inputs.
	if err := chromedp.Do(tab,
		setControl(form+`input[name="amount"]`, ""),
		setControl(form+`select[name="country"]`, ""),
	); err != nil {
		t.Fatal(err)
	}
	got, sent = sendFromPage(t, tab, "fraud")
	direct = ts.do(t, "POST", "/v1/models/fraud:predict", sent)
	var invalid struct {
		Problems []struct{ Field, Problem, Message string }
	}
	if err := json.Unmarshal(direct.body, &invalid); err != nil || direct.status != 422 {
		t.Fatalf("the request the page sent, sent directly: %d %s", direct.status, direct.body)
	}
	var wantProblems []string
	wantMarked := map[string]string{}
	for _, p := range invalid.Problems {
		wantProblems = append(wantProblems, p.Field+" "+p.Problem)
		wantMarked[p.Field] = p.Message
	}
	if got.Status != "422" || !reflect.DeepEqual(got.Problems, wantProblems) || !reflect.DeepEqual(got.Marked, wantMarked) ||
		!reflect.DeepEqual(wantProblems, []string{"amount missing", "country missing"}) {
		t.Fatalf("the page shows %+v; sent directly the request gets %s", got, direct.body)
	}

	// The request, edited by hand, is sent as it is.
	bad := `{"instances":[{"amount":-5,"country":"XX"}]}`
	if err := chromedp.Do(tab, chromedp.SetValue(chromedp.CSS(form+"textarea"), bad)); err != nil {
		t.Fatal(err)
	}
	got, sent = sendFromPage(t, tab, "fraud")
	if sent != bad || got.Status != "422" || !reflect.DeepEqual(got.Problems, []string{"amount range", "country not_allowed"}) {
		t.Fatalf("the page sent %s and shows %+v", sent, got)
	}

	if errs := pageErrors(); len(errs) > 0 {
		t.Fatalf("the page reported errors:\n%s", strings.Join(errs, "\n"))
	}
}
