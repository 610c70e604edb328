package server

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// decisions records the controller's audited decisions.
type decisions struct {
	mu  sync.Mutex
	log []string
}

func (d *decisions) AuditDecision(_ context.Context, model, action string, versions []int, reason string, _ map[string]any) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.log = append(d.log, action+": "+reason)
	return nil
}

func (d *decisions) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.log, "\n")
}

// logreg is a binary classifier whose positive-class probability is
// sigmoid(bias) whatever the input: a fixed score distribution.
func logreg(bias float32) *onnx.Model {
	return (&onnx.LogReg{Weights: []float32{0, 0, 0}, Bias: []float32{bias}}).Model()
}

// TestControllerRollsOutAndBack runs the controller over a real store
// under real traffic: a version like the stable one is promoted through
// every canary step, one whose scores shifted is rolled back with the
// numbers, and one that gets no traffic pauses as inconclusive.
func TestControllerRollsOutAndBack(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", logreg(0))
	// The judgment's defaults, with short steps (and a short max_bake for
	// the part without traffic): latency, errors and scores are compared
	// in the same window, so noise on a shared machine does not roll a
	// healthy version back.
	policy := "rollout:\n  on_publish: canary\n  steps: [\"25%\", 10000]\n  bake: 1s\n  max_bake: 3s\n"
	if err := os.WriteFile(filepath.Join(dir, "m", "policy.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := tracking.Open(context.Background(), filepath.Join(t.TempDir(), "data"), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	ts := serveRegistry(t, dir, Config{Admin: tr})
	var audit decisions
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rollout.NewController(ts.store, rollout.ControllerConfig{Tick: 20 * time.Millisecond, Auditor: &audit, Logger: slog.New(slog.DiscardHandler)}).Run(ctx)
	}()
	defer func() { cancel(); <-done }()

	// Traffic with no routing key, until stopped.
	stop := make(chan struct{})
	traffic := make(chan struct{})
	body := requestJSON("input", "FP32", []int64{1, 3}, []float32{1, 2, 3})
	go func() {
		defer close(traffic)
		client := &http.Client{Timeout: waitLimit}
		for range 1_000_000 {
			select {
			case <-stop:
				return
			default:
			}
			if resp, err := client.Post(ts.url+"/v2/models/m/infer", "application/json", strings.NewReader(body)); err == nil {
				resp.Body.Close()
			}
		}
	}()
	state := func() *rollout.State {
		st, _ := rollout.ReadState(filepath.Join(dir, "m"))
		return st
	}
	wait := func(what string, ok func(*rollout.State) bool) {
		t.Helper()
		until(t, what, func() bool { st := state(); return st != nil && ok(st) })
	}

	testenv.Publish(t, dir, "m", logreg(0)) // version 2: same scores
	wait("version 2 promoted through both steps", func(st *rollout.State) bool { return st.Stable == 2 && st.Candidate == 0 })
	until(t, "the promotion audited", func() bool { return strings.Contains(audit.String(), "promote: ") })
	if log := audit.String(); !strings.Contains(log, "start: version 2 is ready; on_publish: canary") ||
		!strings.Contains(log, "advance: ") || !strings.Contains(log, "promote: ") {
		t.Fatalf("decisions:\n%s", log)
	}
	// At the last step stable answers nothing; the candidate is held to
	// stable's last window that had traffic, not judged alone.
	for _, line := range strings.Split(audit.String(), "\n") {
		if strings.HasPrefix(line, "promote: ") && (strings.Contains(line, "stable has 0 of") || !strings.Contains(line, "score PSI")) {
			t.Errorf("the promotion was not judged against stable's last window: %s", line)
		}
	}

	testenv.Publish(t, dir, "m", logreg(5)) // version 3: scores near 0.99
	wait("version 3 rolled back", func(st *rollout.State) bool {
		return st.Stable == 2 && st.Strategy == rollout.Manual && st.Actor == "controller"
	})
	until(t, "the rollback audited", func() bool { return strings.Contains(audit.String(), "rollback: ") })
	if log := audit.String(); !strings.Contains(log, "rollback: ") || !strings.Contains(log, "PSI") {
		t.Fatalf("decisions:\n%s", log)
	}
	if v := ts.servedVersion(t, "m"); v != "2" {
		t.Fatalf("after the rollback version %s serves", v)
	}

	close(stop)
	<-traffic
	// The rolled-back version is not started again; version 4, published
	// after the rollback, is, and with no traffic at all it pauses as
	// inconclusive.
	time.Sleep(100 * time.Millisecond) // a few ticks
	if st := state(); st.Candidate != 0 {
		t.Fatalf("the controller restarted a rolled-back version: %+v", st)
	}
	testenv.Publish(t, dir, "m", logreg(0))
	wait("version 4 paused as inconclusive", func(st *rollout.State) bool { return st.Candidate == 4 && st.Paused })
	until(t, "the pause audited", func() bool { return strings.Contains(audit.String(), "inconclusive: ") })
	if log := audit.String(); !strings.Contains(log, "inconclusive: ") {
		t.Fatalf("decisions:\n%s", log)
	}
}

// accuracies is live accuracy by version, as feedback would supply it.
type accuracies map[int]float64

func (a accuracies) Accuracy(_ string, version int) (float64, bool) {
	v, ok := a[version]
	return v, ok
}

// TestControllerRollsBackOnAccuracy gives the controller live accuracy:
// a candidate whose accuracy dropped is rolled back, though its traffic
// looks healthy.
func TestControllerRollsBackOnAccuracy(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", logreg(0))
	policy := "rollout:\n  on_publish: canary\n  min_requests: 20\n  bake: 1h\n  max_accuracy_drop: 0.02\n"
	if err := os.WriteFile(filepath.Join(dir, "m", "policy.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := serveRegistry(t, dir, Config{})
	var audit decisions
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rollout.NewController(ts.store, rollout.ControllerConfig{Tick: 20 * time.Millisecond, Auditor: &audit,
			Accuracy: accuracies{1: 0.91, 2: 0.80}, Logger: slog.New(slog.DiscardHandler)}).Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	testenv.Publish(t, dir, "m", logreg(0))
	body := requestJSON("input", "FP32", []int64{1, 3}, []float32{1, 2, 3})
	until(t, "version 2 rolled back on accuracy", func() bool {
		for range 20 {
			ts.do(t, "POST", "/v2/models/m/infer", body)
		}
		st, _ := rollout.ReadState(filepath.Join(dir, "m"))
		return st != nil && st.Stable == 1 && st.Candidate == 0 && strings.Contains(audit.String(), "accuracy")
	})
}
