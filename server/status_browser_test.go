package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/quality"
	"github.com/switchyard-ml/switchyard/tracking"
)

// statusProfile is the drift reference of model m's versions: 1000 rows
// of its three features (input[0..2]), standard normal, as EvalSet draws
// them.
func statusProfile(t *testing.T) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	cols := make([]drift.Column, 3)
	for j := range cols {
		cols[j] = drift.Column{Name: "input[" + strconv.Itoa(j) + "]", Kind: drift.Numeric}
		for range 1000 {
			cols[j].Numbers = append(cols[j].Numbers, rng.NormFloat64())
		}
	}
	p, err := drift.BuildProfile(cols, nil, drift.ProfileOptions{Source: "test"})
	if err != nil {
		t.Fatalf("BuildProfile: %v", err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serveStatusModels serves a registry with model m in two versions, each
// with an eval set (the gate gives each a verdict with numbers) and a
// drift profile, and model plain, with a tracking store for the audit
// trail, under cfg. With live set, the drift monitor, the prediction log
// and the live quality monitor run too (judging windows of 100 rows and
// 20 labels), and the history samples every 200ms unless cfg says.
func serveStatusModels(t *testing.T, cfg Config, live bool) *testServer {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	policy := "gate:\n  metrics:\n    auc: {min: 0.5}\n"
	if live {
		policy += "drift:\n  window_rows: 100\n  interval: 20ms\nquality:\n  window: 200\n  min_labels: 20\n  interval: 20ms\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "m", modelstore.PolicyFile), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	eval, profile := testenv.EvalSet(3, 500), statusProfile(t)
	for i, model := range [][]byte{testenv.Classifier(4, 2, 0), testenv.Classifier(4, 2, 0.1)} {
		if _, err := modelstore.Publish(dir, "m", model, modelstore.PublishOptions{CreatedBy: "test", EvalCSV: eval, EvalLabel: "label",
			Profile: profile, Description: "logistic regression, fit " + strconv.Itoa(i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Publish(t, dir, "plain", testMLP.Model())
	st, err := tracking.Open(context.Background(), filepath.Join(t.TempDir(), "data"), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait(); st.Close() }) // after the server's cleanup, registered below
	cfg.Admin = st
	versions := &lateVersions{}
	var qm *quality.Monitor
	if live {
		quiet := slog.New(slog.DiscardHandler)
		dm, err := drift.New(drift.Config{Tick: 5 * time.Millisecond, Logger: quiet}, prometheus.NewPedanticRegistry())
		if err != nil {
			t.Fatal(err)
		}
		qm, err = quality.NewMonitor(quality.MonitorConfig{Versions: versions, History: st, Auditor: st, Tick: 20 * time.Millisecond, Logger: quiet},
			prometheus.NewPedanticRegistry())
		if err != nil {
			t.Fatal(err)
		}
		plog, err := tracking.NewPredictionLog(st, tracking.LogConfig{FlushEvery: 5 * time.Millisecond, Logger: quiet, OnWrite: qm.Predicted},
			prometheus.NewPedanticRegistry())
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { dm.Run(ctx) })
		wg.Go(func() { plog.Run(ctx) })
		cfg.Drift, cfg.PredictionLog, cfg.Feedback, cfg.Quality = dm, plog, st, qm
		if cfg.HistoryInterval == 0 {
			cfg.HistoryInterval = 200 * time.Millisecond
		}
	}
	ts := serveRegistry(t, dir, cfg)
	versions.Versions = QualityVersions(ts.store)
	if qm != nil {
		wg.Go(func() { qm.Run(ctx) })
	}
	until(t, "both versions of m judged", func() bool {
		m := ts.store.Model("m")
		return m != nil && len(m.Versions) == 2 && (m.Versions[1].State() == modelstore.Ready || m.Versions[1].State() == modelstore.Failed)
	})
	return ts
}

// statusRows sends n one-row requests to model m, their third feature
// shifted by shift, and then labels each (1 when a + b/2 > 0) through
// POST /v1/feedback once it is logged. It may call t.Fatal: only the
// test's goroutine may call it.
func statusRows(t *testing.T, ts *testServer, rng *rand.Rand, n int, shift float64) {
	t.Helper()
	ids, labels := make([]string, 0, n), map[string]int{}
	for range n {
		a, b, c := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()+shift
		r := ts.do(t, "POST", "/v2/models/m/infer", requestJSON("input", "FP32", []int64{1, 3}, []float64{a, b, c}))
		var ans struct {
			Parameters struct {
				PredictionID string `json:"prediction_id"`
			} `json:"parameters"`
		}
		if err := json.Unmarshal(r.body, &ans); err != nil || r.status != 200 || ans.Parameters.PredictionID == "" {
			t.Fatalf("infer = %d %s (%v)", r.status, r.body, err)
		}
		id := ans.Parameters.PredictionID
		ids = append(ids, id)
		if a+b/2 > 0 {
			labels[id] = 1
		}
	}
	until(t, "the labels taken", func() bool {
		status, ans := postFeedback(t, ts, feedbackBody(ids, func(i int) any { return labels[ids[i]] }))
		if status == 200 {
			return true
		}
		var left []string
		for _, r := range ans.Results {
			if r.Status == tracking.FeedbackUnknown { // not logged yet: post it again
				left = append(left, r.PredictionID)
			}
		}
		ids = left
		return len(ids) == 0
	})
}

// statusShown is what the status page shows of model m.
type statusShown struct {
	Refreshed string   `json:"refreshed"`
	Models    []string `json:"models"`
	Traffic   []string `json:"traffic"` // "v1 100%" per version row of m
	Gates     []string `json:"gates"`   // each gate cell's text
	Cards     []string `json:"cards"`   // each version's link
	Live      []string `json:"live"`    // each live cell's text
	// Points are the points drawn in each version's charts, by version
	// and then chart (req/s, errors, p50, p99).
	Points map[string][]int `json:"points"`
	Drift  string           `json:"drift"`
	Audit  int              `json:"audit"`
}

const statusShownJS = `(() => {
	const m = document.querySelector('section.model[data-model="m"]');
	const rows = m ? [...m.querySelectorAll("tbody tr[data-version]")] : [];
	const points = {};
	for (const h of m ? m.querySelectorAll("tr[data-history]") : []) {
		points[h.dataset.history] = [...h.querySelectorAll("svg")].map((s) => Number(s.dataset.points));
	}
	const drift = m && m.querySelector(".drift");
	return {
		refreshed: document.body.dataset.refreshed || "",
		models: [...document.querySelectorAll("section.model")].map((s) => s.dataset.model),
		traffic: rows.map((r) => "v" + r.dataset.version + " " + r.querySelector(".traffic").textContent),
		gates: rows.map((r) => r.querySelector(".gate").textContent),
		cards: rows.map((r) => r.querySelector("a").getAttribute("href")),
		live: rows.map((r) => r.querySelector(".live").textContent),
		points: points,
		drift: drift ? drift.textContent : "",
		audit: document.querySelectorAll("#audit tbody tr").length,
	};
})()`

// TestStatusPageInBrowser loads / in headless Chromium against a live
// server: the models, their split and gate verdicts appear; after traffic
// the serving version's charts get points and the drift and live quality
// panels appear; a promote made through the admin API shows within one
// refresh.
func TestStatusPageInBrowser(t *testing.T) {
	tab, pageErrors := browserTab(t)
	ts := serveStatusModels(t, Config{}, true)
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
	if len(got.Gates) != 2 || !strings.Contains(got.Gates[1], "pass") || !strings.Contains(got.Gates[1], "auc") {
		t.Errorf("gate cells %q; want each version's verdict with its auc", got.Gates)
	}
	if len(got.Cards) != 2 || got.Cards[1] != "/v1/models/m/versions/2/card" {
		t.Errorf("version links %q; want each version's model card", got.Cards)
	}
	before := strings.Join(got.Traffic, ", ")
	serving := ts.servedVersion(t, "m")
	if !strings.Contains(before, "v"+serving+" 100%") {
		t.Errorf("traffic shown %s; want v%s at 100%%", before, serving)
	}

	// Traffic: the serving version's charts get points; drift and live
	// quality are judged and shown.
	statusRows(t, ts, rand.New(rand.NewPCG(1, 2)), 150, 0)
	var after statusShown
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`(() => {
		const s = `+statusShownJS+`;
		const p = s.points[`+jsString(serving)+`] || [];
		return p.length === 4 && p[0] >= 2 && p[2] >= 1 && p[3] >= 1 && s.drift.includes("v`+serving+` ok") &&
			s.live.some((l) => l.includes("live quality ok"));
	})()`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		after, _ = chromedp.Run(context.WithoutCancel(tab), chromedp.Evaluate[statusShown](statusShownJS))
		t.Fatalf("after traffic the page shows no charts, drift or live quality of v%s: %v; shown %+v (page errors: %v)",
			serving, err, after, pageErrors())
	}

	// Promote the version that has no traffic, through the API.
	target := "1"
	if serving == "1" {
		target = "2"
	}
	got, err = chromedp.Run(tab, chromedp.Evaluate[statusShown](statusShownJS))
	if err != nil {
		t.Fatal(err)
	}
	if r := ts.do(t, "POST", "/admin/models/m/promote", `{"version":`+target+`,"reason":"status page test","actor":"test"}`); r.status != 200 {
		t.Fatalf("promote v%s = %d %s", target, r.status, r.body)
	}
	// Two refreshes: the first may have read the API before the promote.
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`Number(document.body.dataset.refreshed || 0) >= `+got.Refreshed+` + 2`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
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
// (served without one) asks for a token, says so when it is refused, and
// works once given a good one.
func TestStatusPageAsksForToken(t *testing.T) {
	tab, pageErrors := browserTab(t)
	ts := serveStatusModels(t, Config{Access: testPolicy(t, access.Read, access.Write)}, false)
	if err := chromedp.Do(tab,
		chromedp.Navigate(ts.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
	); err != nil {
		t.Fatalf("the status page did not ask for a token: %v (page errors: %v)", err, pageErrors())
	}
	if err := chromedp.Do(tab,
		setControl("#token", "not-a-token"),
		chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.Poll[chromedp.Void](`document.getElementById("login-error").textContent.includes("refused")`,
			chromedp.WithPollingTimeout(15*time.Second)),
	); err != nil {
		t.Fatalf("the status page did not say the bad token was refused: %v (page errors: %v)", err, pageErrors())
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
	kept, err := chromedp.Run(tab, chromedp.Evaluate[string](`sessionStorage.getItem("switchyard.token")`))
	if err != nil || kept != readSecret {
		t.Errorf("sessionStorage keeps %q (%v); want the token given", kept, err)
	}
	if errs := pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// screenshotEnv names the file TestStatusPageScreenshot writes.
const screenshotEnv = "SWITCHYARD_STATUS_SCREENSHOT"

// TestStatusPageScreenshot writes the README's picture of the status page,
// a PNG of a 1280x900 viewport, to the file $SWITCHYARD_STATUS_SCREENSHOT
// names (make screenshot sets it to docs/status.png); without it the test
// skips. Model m runs a canary of version 2 against version 1 while
// requests arrive (statusLoad) until the charts span most of their
// window, which a short HistoryInterval makes 15 seconds.
func TestStatusPageScreenshot(t *testing.T) {
	out := os.Getenv(screenshotEnv)
	if out == "" {
		t.Skip(screenshotEnv + " names no output file; make screenshot sets it")
	}
	if chromePath() == "" {
		t.Fatal(screenshotEnv + " asks for a screenshot, but there is no Chromium (make chromium installs it)")
	}
	tab, pageErrors := browserTab(t)
	ts := serveStatusModels(t, Config{HistoryInterval: 100 * time.Millisecond}, true)
	for _, body := range []string{
		`{"version":1,"reason":"baseline for the canary","actor":"alice"}`,
		`{"version":2,"strategy":"canary","reason":"fit 2 passed its gate","actor":"alice"}`,
	} {
		if r := ts.do(t, "POST", "/admin/models/m/promote", body); r.status != 200 {
			t.Fatalf("promote %s = %d %s", body, r.status, r.body)
		}
	}
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(ts.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`section.model[data-model="m"] tbody tr`)),
	); err != nil {
		t.Fatalf("the status page did not render model m: %v (page errors: %v)", err, pageErrors())
	}
	stop := make(chan struct{})
	var load sync.WaitGroup
	load.Go(func() { statusLoad(t, ts, stop) })
	defer func() { close(stop); load.Wait() }()
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`(() => {
		const s = `+statusShownJS+`;
		return (s.points["1"] || [])[0] >= 120 && s.drift.includes("v1 ok") && s.live.some((l) => l.includes("live quality ok"));
	})()`, chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		shown, _ := chromedp.Run(context.WithoutCancel(tab), chromedp.Evaluate[statusShown](statusShownJS))
		t.Fatalf("the page shows no charts, drift or live quality: %v; shown %+v (page errors: %v)", err, shown, pageErrors())
	}
	png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", out, len(png))
	if errs := pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// statusLoad sends one-row requests to model m until stop closes, in
// waves that grow and shrink, their third feature drifting further, and
// labels each wave's predictions (1 when a + b/2 > 0) through the
// feedback API one wave later, once they are logged; a label the server
// refuses is dropped. It runs on a goroutine of its own and reports a
// failure with t.Errorf.
func statusLoad(t *testing.T, ts *testServer, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(3, 4))
	var last []map[string]any // the previous wave's labels
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if len(last) > 0 {
			b, _ := json.Marshal(last)
			if _, err := ts.try("POST", "/v1/feedback", string(b)); err != nil {
				t.Errorf("feedback: %v", err)
				return
			}
		}
		last = last[:0]
		for range 12 + int(10*math.Sin(float64(i)/10)) {
			a, b, c := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()+float64(i)/200
			r, err := ts.try("POST", "/v2/models/m/infer", requestJSON("input", "FP32", []int64{1, 3}, []float64{a, b, c}))
			var ans struct {
				Parameters struct {
					PredictionID string `json:"prediction_id"`
				} `json:"parameters"`
			}
			if err == nil && r.status == 200 {
				err = json.Unmarshal(r.body, &ans)
			}
			if err != nil || r.status != 200 {
				t.Errorf("infer = %d %s (%v)", r.status, r.body, err)
				return
			}
			label := 0
			if a+b/2 > 0 {
				label = 1
			}
			last = append(last, map[string]any{"prediction_id": ans.Parameters.PredictionID, "label": label})
		}
		time.Sleep(20 * time.Millisecond) // spreads the requests over the charts; nothing is timed
	}
}
