package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/quality"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// lateVersions is QualityVersions over a store that the test serves
// after the monitor is made; it is set before the monitor runs.
type lateVersions struct{ quality.Versions }

// TestQualityRollsBackCanary serves a model with the prediction log on
// and the live quality monitor fed by it and by POST /v1/feedback, and
// gives the rollout controller the monitor's accuracy: version 1 answers
// every row positive, version 2 negative, and every label is positive, so
// the canary's live accuracy falls to 0 against stable's 1, and the
// controller rolls it back. The operations API shows the live figures.
func TestQualityRollsBackCanary(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", logreg(2)) // P(1) = 0.88 for every row
	policy := "rollout:\n  on_publish: canary\n  min_requests: 20\n  bake: 1h\n  max_accuracy_drop: 0.02\n" +
		"quality:\n  window: 200\n  min_labels: 20\n  interval: 20ms\n"
	if err := os.WriteFile(filepath.Join(dir, "m", "policy.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := tracking.Open(context.Background(), t.TempDir(), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	versions := &lateVersions{}
	mon, err := quality.NewMonitor(quality.MonitorConfig{Versions: versions, History: st, Auditor: st, Tick: 10 * time.Millisecond, Logger: quiet},
		prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	plog, err := tracking.NewPredictionLog(st, tracking.LogConfig{FlushEvery: 5 * time.Millisecond, Logger: quiet, OnWrite: mon.Predicted},
		prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait(); st.Close() })
	wg.Go(func() { plog.Run(ctx) })
	ts := serveRegistry(t, dir, Config{PredictionLog: plog, Feedback: st, Quality: mon, Admin: st})
	versions.Versions = QualityVersions(ts.store)
	wg.Go(func() { mon.Run(ctx) })
	var audit decisions
	wg.Go(func() {
		rollout.NewController(ts.store, rollout.ControllerConfig{Tick: 20 * time.Millisecond, Auditor: &audit,
			Accuracy: mon, Logger: quiet}).Run(ctx)
	})

	body := requestJSON("input", "FP32", []int64{1, 3}, []float32{1, 2, 3})
	// infer sends n requests to path and returns their prediction ids.
	infer := func(path string, n int) []string {
		ids := make([]string, 0, n)
		for range n {
			r := ts.do(t, "POST", path, body)
			var ans struct {
				Parameters struct {
					PredictionID string `json:"prediction_id"`
				} `json:"parameters"`
			}
			if err := json.Unmarshal(r.body, &ans); err != nil || r.status != 200 {
				t.Fatalf("infer = %d %s (%v)", r.status, r.body, err)
			}
			ids = append(ids, ans.Parameters.PredictionID)
		}
		return ids
	}
	positive := func(int) any { return 1 }
	// label posts the label of ids once each is logged (an id not yet
	// logged is unknown: it is posted again).
	label := func(ids []string) {
		until(t, "the labels taken", func() bool {
			status, ans := postFeedback(t, ts, feedbackBody(ids, positive))
			if status == 200 {
				return true
			}
			var left []string
			for _, r := range ans.Results {
				if r.Status == tracking.FeedbackUnknown {
					left = append(left, r.PredictionID)
				}
			}
			ids = left
			return len(ids) == 0
		})
	}

	label(infer("/v2/models/m/infer", 30))
	until(t, "version 1's live accuracy", func() bool { a, ok := mon.Accuracy("m", 1); return ok && a == 1 })

	testenv.Publish(t, dir, "m", logreg(-2)) // version 2: P(1) = 0.12
	until(t, "version 2 on canary", func() bool {
		s, _ := rollout.ReadState(filepath.Join(dir, "m"))
		return s != nil && s.Candidate == 2
	})
	until(t, "version 2 rolled back on its live accuracy", func() bool {
		label(append(infer("/v2/models/m/infer", 20), infer("/v2/models/m/versions/2/infer", 10)...))
		s, _ := rollout.ReadState(filepath.Join(dir, "m"))
		return s != nil && s.Stable == 1 && s.Candidate == 0 && strings.Contains(audit.String(), "accuracy")
	})
	if a, ok := mon.Accuracy("m", 2); ok && a != 0 {
		t.Errorf("version 2's live accuracy = %v; want 0", a)
	}

	// GET /admin/models/m shows version 1's live quality.
	var model struct {
		Versions []struct {
			Version int               `json:"version"`
			Quality *adminQualityWire `json:"quality"`
		} `json:"versions"`
	}
	until(t, "version 1's quality in the operations API", func() bool {
		r := ts.do(t, "GET", "/admin/models/m", "")
		if err := json.Unmarshal(r.body, &model); err != nil {
			t.Fatalf("GET /admin/models/m = %d %s: %v", r.status, r.body, err)
		}
		q := model.Versions[0].Quality
		return q != nil && q.Status == quality.StatusOK && q.Live.Accuracy != nil && *q.Live.Accuracy == 1 && q.Labelled >= 30
	})
	q := model.Versions[0].Quality
	if q.LabelledShare == nil || *q.LabelledShare <= 0 || *q.LabelledShare > 1 || q.Alarms == nil || q.MinLabels != 20 ||
		!strings.Contains(q.EstimateReason, "calibration.json") {
		t.Fatalf("version 1's quality %+v", q)
	}
}

// adminQualityWire is the part of a version's quality the test reads.
type adminQualityWire struct {
	Status         string          `json:"status"`
	Live           quality.Metrics `json:"live"`
	Labelled       int             `json:"labelled"`
	LabelledShare  *float64        `json:"labelled_share"`
	EstimateReason string          `json:"estimate_reason"`
	Alarms         []string        `json:"alarms"`
	MinLabels      int             `json:"min_labels"`
}
