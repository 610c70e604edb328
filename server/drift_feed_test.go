package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/tracking"
)

// wideDriftPolicy keeps every row of a test in the drift monitor's
// current window, judged every 10 ms.
const wideDriftPolicy = "drift:\n  window_rows: 100000\n  interval: 10ms\n"

// startLoggedDriftServer serves the drift tests' "steady" model and the
// records model "recs" with wideDriftPolicy, a running drift monitor, and
// a prediction log keeping logShare of the predictions, whose writer
// flushes every flushEvery until the context stopLog cancels, which
// flushes it a last time and waits for it.
func startLoggedDriftServer(t *testing.T, logShare float64, flushEvery time.Duration) (ts *testServer, logReg *prometheus.Registry, stopLog func()) {
	t.Helper()
	dir := t.TempDir()
	v := testenv.Publish(t, dir, "steady", driftMLP.Model())
	writeDriftProfile(t, filepath.Join(dir, "steady", strconv.Itoa(v)))
	if err := os.WriteFile(filepath.Join(dir, "steady", "policy.yaml"), []byte(wideDriftPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	publishDriftRecords(t, dir, wideDriftPolicy, rand.New(rand.NewPCG(8, 8)))

	quiet := slog.New(slog.DiscardHandler)
	m, err := drift.New(drift.Config{Tick: 5 * time.Millisecond, Logger: quiet}, prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	st, err := tracking.Open(context.Background(), t.TempDir(), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	logReg = prometheus.NewPedanticRegistry()
	policy := func(string) (tracking.LogPolicy, error) {
		p := tracking.DefaultLogPolicy()
		p.Sample = logShare
		return p, nil
	}
	l, err := tracking.NewPredictionLog(st, tracking.LogConfig{Policy: policy, FlushEvery: flushEvery, Logger: quiet}, logReg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logCtx, cancelLog := context.WithCancel(context.Background())
	var wg, logWG sync.WaitGroup
	wg.Go(func() { m.Run(ctx) })
	logWG.Go(func() { l.Run(logCtx) })
	stopLog = func() { cancelLog(); logWG.Wait() }
	t.Cleanup(func() { stopLog(); cancel(); wg.Wait(); st.Close() })
	return serveRegistry(t, dir, Config{Drift: m, PredictionLog: l}), logReg, stopLog
}

// waitDriftRows polls model's drift report until its current window
// holds want rows, and fails if it ever holds more.
func waitDriftRows(t *testing.T, ts *testServer, model string, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	got := -1
	for time.Now().Before(deadline) {
		r := ts.do(t, "GET", "/admin/models/"+model+"/drift", "")
		var rep drift.Report
		if err := json.Unmarshal(r.body, &rep); err != nil || r.status != 200 {
			t.Fatalf("GET drift of %s = %d %s", model, r.status, r.body)
		}
		if len(rep.Versions) == 1 && rep.Versions[0].Current != nil {
			got = rep.Versions[0].Current.Rows
		}
		switch {
		case got == want:
			return
		case got > want:
			t.Fatalf("drift of %s counted %d rows; want %d: a prediction was offered twice", model, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("drift of %s counted %d rows; want %d", model, got, want)
}

// TestDriftFedByTheLog: with the prediction log on, keeping half of the
// predictions, the drift monitor still sees every prediction once: the
// log's writer offers those it wrote, and the request the others, V2 and
// records alike. Without the hot path's leaving the logged ones to the
// writer the monitor counts them twice; without its offering the others
// it misses them.
func TestDriftFedByTheLog(t *testing.T) {
	ts, logReg, stopLog := startLoggedDriftServer(t, 0.5, 10*time.Millisecond)
	rng := rand.New(rand.NewPCG(9, 9))
	// A prediction of each model first: the writer reads a model's policy
	// when it writes the model's first batch, and logs all until then.
	ts.infer(t, "/v2/models/steady/infer", requestJSON("input", "FP32", []int64{1, 3}, normalRows(rng, 1, -1, 0)))
	ts.predict(t, "/v1/models/recs:predict", recordsBody(rng, 1, [3]float64{0.5, 0.3, 0.2}))
	for deadline := time.Now().Add(10 * time.Second); counter(t, logReg, "switchyard_prediction_log_written_total") < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the log's writer wrote nothing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 200 {
		ts.infer(t, "/v2/models/steady/infer", requestJSON("input", "FP32", []int64{1, 3}, normalRows(rng, 1, -1, 0)))
	}
	sendRows(t, ts, "steady", rng, 200, -1, 0) // 20 requests of 10 rows
	for range 30 {
		ts.predict(t, "/v1/models/recs:predict", recordsBody(rng, 10, [3]float64{0.5, 0.3, 0.2}))
	}
	waitDriftRows(t, ts, "steady", 1+200+200)
	waitDriftRows(t, ts, "recs", 1+300)

	stopLog()
	logged := counter(t, logReg, "switchyard_prediction_log_written_total") - 2
	if predictions := 200.0 + 20 + 300; logged < 0.3*predictions || logged > 0.7*predictions {
		t.Errorf("the log wrote %v of %v predictions; want about half, so that both ways to the monitor were taken", logged, predictions)
	}
}

// TestDriftGathersTheLogsBatch: a batch of the log's writer that holds
// more predictions than the drift monitor's queue reaches the monitor
// whole, gathered into a few samples; offered one by one, most of it
// would be dropped.
func TestDriftGathersTheLogsBatch(t *testing.T) {
	const n = 3 * drift.DefaultQueue
	ts, logReg, stopLog := startLoggedDriftServer(t, 1, time.Hour) // one batch, written by stopLog
	rng := rand.New(rand.NewPCG(10, 10))
	for range n {
		ts.infer(t, "/v2/models/steady/infer", requestJSON("input", "FP32", []int64{1, 3}, normalRows(rng, 1, -1, 0)))
	}
	stopLog()
	if got := counter(t, logReg, "switchyard_prediction_log_written_total"); got != n {
		t.Fatalf("the log wrote %v predictions; want %d", got, n)
	}
	waitDriftRows(t, ts, "steady", n)
}
