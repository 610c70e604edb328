package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/rollout"
)

// TestShadowNeverChangesAnswers routes a copy of stable's traffic to a
// slow shadow through a queue of one: every client gets stable's answer,
// the shadow's agreement is recorded, and the copies it cannot keep up
// with are dropped and counted.
func TestShadowNeverChangesAnswers(t *testing.T) {
	dir := t.TempDir()
	stable := &onnx.LogReg{Weights: []float32{0.5, -0.25, 0.1}, Bias: []float32{0.2}}
	testenv.Publish(t, dir, "m", stable.Model())
	testenv.Publish(t, dir, "m", onnx.RandomMLP(3, onnx.ActivationSoftmax, 3, 1024, 1024, 1024, 2).Model()) // slow
	if err := rollout.WriteState(filepath.Join(dir, "m"), &rollout.State{Stable: 1, Shadow: 2, Strategy: rollout.Manual,
		UpdatedAt: time.Now(), Actor: "test", Reason: "shadow"}); err != nil {
		t.Fatal(err)
	}
	ts := serveRegistry(t, dir, Config{ShadowQueue: 1})
	until(t, "the shadow routed", func() bool { rt := ts.store.Table().Route("m"); _, ok := rt.Shadow(); return ok })
	x := []float32{1, 2, 3}
	_, want := stable.Predict(x)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 40 {
				r, err := ts.try("POST", "/v2/models/m/infer", requestJSON("input", "FP32", []int64{1, 3}, x))
				var out inferResponse
				if err == nil && r.status == 200 {
					err = json.Unmarshal(r.body, &out)
				}
				if err != nil || r.status != 200 || len(out.Outputs) < 2 {
					t.Errorf("infer = %d %s, %v", r.status, r.body, err)
					return
				}
				if out.ModelVersion != "1" {
					t.Errorf("version %s answered; the shadow must never answer", out.ModelVersion)
					return
				}
				if err := near(out.Outputs[1].Data, want, 1e-5); err != nil {
					t.Errorf("probabilities: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	shadow, _ := ts.store.Lookup("m", 2)
	until(t, "some copies compared", func() bool { return shadow.Agreement.Snapshot().Compared > 0 })
	dropped := testutil.ToFloat64(ts.metrics.shadowDropped.WithLabelValues("m"))
	if dropped == 0 {
		t.Fatal("a slow shadow behind a queue of one dropped nothing")
	}
	t.Logf("compared %d, dropped %v", shadow.Agreement.Snapshot().Compared, dropped)
}

// TestControllerShadowThenSwitch lets the controller run a shadow, then
// switch to a version that agrees, and drop one that does not.
func TestControllerShadowThenSwitch(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", logreg(1)) // p 0.73
	policy := "rollout:\n  on_publish: shadow\n  watch: 100ms\n" +
		"  shadow:\n    min_requests: 20\n    min_agreement: 0.9\n    then: bluegreen\n"
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
			Logger: slog.New(slog.DiscardHandler)}).Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	stop := make(chan struct{})
	traffic := make(chan struct{})
	body := requestJSON("input", "FP32", []int64{1, 3}, []float32{1, 2, 3})
	go func() {
		defer close(traffic)
		for range 1_000_000 {
			select {
			case <-stop:
				return
			default:
			}
			if resp, err := http.Post(ts.url+"/v2/models/m/infer", "application/json", strings.NewReader(body)); err == nil {
				resp.Body.Close()
			}
		}
	}()
	defer func() { close(stop); <-traffic }()
	state := func() *rollout.State { st, _ := rollout.ReadState(filepath.Join(dir, "m")); return st }

	testenv.Publish(t, dir, "m", logreg(1)) // p 0.73: the same answer and score
	until(t, "version 2 shadowed, switched and promoted", func() bool {
		st := state()
		return st != nil && st.Stable == 2 && st.Candidate == 0 && st.Shadow == 0
	})
	testenv.Publish(t, dir, "m", logreg(-3)) // p 0.05: the other answer
	until(t, "version 3's shadow dropped", func() bool {
		st := state()
		return st != nil && st.Stable == 2 && st.Shadow == 0 && st.Strategy == rollout.Manual && strings.Contains(audit.String(), "rollback")
	})
	if log := audit.String(); !strings.Contains(log, "agree") {
		t.Fatalf("decisions:\n%s", log)
	}
}
