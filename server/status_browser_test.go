package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// serveStatusModels serves a registry with model m in two gated versions
// (the eval set and the gate give each a verdict with numbers) under cfg.
func serveStatusModels(t *testing.T, cfg Config) *testServer {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	policy := "gate:\n  metrics:\n    auc: {min: 0.5}\n"
	if err := os.WriteFile(filepath.Join(dir, "m", modelstore.PolicyFile), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	eval := testenv.EvalSet(3, 500)
	for _, model := range [][]byte{testenv.Classifier(4, 2, 0), testenv.Classifier(4, 2, 0.1)} {
		if _, err := modelstore.Publish(dir, "m", model, modelstore.PublishOptions{CreatedBy: "test", EvalCSV: eval, EvalLabel: "label"}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Publish(t, dir, "plain", testMLP.Model())
	tr, err := tracking.Open(context.Background(), filepath.Join(t.TempDir(), "data"), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	cfg.Admin = tr
	ts := serveRegistry(t, dir, cfg)
	until(t, "both versions of m judged", func() bool {
		m := ts.store.Model("m")
		return m != nil && len(m.Versions) == 2 && (m.Versions[1].State() == modelstore.Ready || m.Versions[1].State() == modelstore.Failed)
	})
	return ts
}

// statusShown is what the status page shows of one model.
type statusShown struct {
	Refreshed string   `json:"refreshed"`
	Models    []string `json:"models"`
	Traffic   []string `json:"traffic"` // "v1 100%" per version row of m
	Gates     []string `json:"gates"`   // each gate cell's text of m
	Audit     int      `json:"audit"`
}

const statusShownJS = `(() => {
	const m = document.querySelector('section.model[data-model="m"]');
	const rows = m ? [...m.querySelectorAll("tbody tr")] : [];
	return {
		refreshed: document.body.dataset.refreshed || "",
		models: [...document.querySelectorAll("section.model")].map((s) => s.dataset.model),
		traffic: rows.map((r) => "v" + r.dataset.version + " " + r.querySelector(".traffic").textContent),
		gates: rows.map((r) => r.querySelector(".gate").textContent),
		audit: document.querySelectorAll("#audit tbody tr").length,
	};
})()`

// TestStatusPageInBrowser loads / in headless Chromium against a live
// server: the models, their split and gate verdicts appear, and a promote
// made through the admin API shows within one refresh.
func TestStatusPageInBrowser(t *testing.T) {
	tab, pageErrors := browserTab(t)
	ts := serveStatusModels(t, Config{})
	if err := chromedp.Do(tab,
		chromedp.Navigate(ts.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`section.model[data-model="m"] tbody tr`)),
	); err != nil {
		t.Fatalf("the status page did not render model m: %v (page errors: %v)", err, pageErrors())
	}
	got, err := chromedp.Run(tab, chromedp.Evaluate[statusShown](statusShownJS))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Models, " ") != "m plain" && strings.Join(got.Models, " ") != "plain m" {
		t.Errorf("models shown %v; want m and plain", got.Models)
	}
	if len(got.Gates) != 2 || !strings.Contains(got.Gates[1], "auc") {
		t.Errorf("gate cells %q; want each version's verdict with its auc", got.Gates)
	}
	before := strings.Join(got.Traffic, ", ")
	t.Logf("traffic before: %s; gates: %q", before, got.Gates)

	// Promote the version that has no traffic, through the API.
	target := "2"
	if strings.Contains(before, "v2 100%") {
		target = "1"
	}
	if r := ts.do(t, "POST", "/admin/models/m/promote", `{"version":`+target+`,"reason":"status page test","actor":"test"}`); r.status != 200 {
		t.Fatalf("promote v%s = %d %s", target, r.status, r.body)
	}
	start := got.Refreshed
	var after statusShown
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`(() => {
		const n = Number(document.body.dataset.refreshed || 0);
		return n >= `+start+` + 2;
	})()`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("the page did not refresh: %v", err)
	}
	if after, err = chromedp.Run(tab, chromedp.Evaluate[statusShown](statusShownJS)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(after.Traffic, ", "), "v"+target+" 100%") {
		t.Errorf("after promoting v%s the page shows traffic %v (before: %s)", target, after.Traffic, before)
	}
	if after.Audit == 0 {
		t.Errorf("the page shows no audit event after a promote")
	}
	if errs := pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// TestStatusPageAsksForToken: with read tokens configured, the page
// (served without one) asks for a token, and works once given one.
func TestStatusPageAsksForToken(t *testing.T) {
	tab, pageErrors := browserTab(t)
	ts := serveStatusModels(t, Config{Access: testPolicy(t, access.Read, access.Write)})
	if err := chromedp.Do(tab,
		chromedp.Navigate(ts.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
	); err != nil {
		t.Fatalf("the status page did not ask for a token: %v (page errors: %v)", err, pageErrors())
	}
	if err := chromedp.Do(tab,
		setControl("#token", readSecret),
		chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.Poll[chromedp.Void](`!!document.querySelector('section.model[data-model="m"] tbody tr') && document.getElementById("login").hidden`,
			chromedp.WithPollingTimeout(15*time.Second)),
	); err != nil {
		text, _ := chromedp.Run(context.WithoutCancel(tab), chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("the status page did not show the models once given a token: %v (page errors: %v; page: %s)", err, pageErrors(), text)
	}
	if errs := pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}
