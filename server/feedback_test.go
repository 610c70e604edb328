package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/tracking"
)

// startLogServer serves a registry with model "m" (driftMLP), logging
// every prediction to a tracking store that also takes the feedback.
func startLogServer(t *testing.T) (*testServer, *tracking.Store) {
	t.Helper()
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", driftMLP.Model())
	st, err := tracking.Open(context.Background(), t.TempDir(), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := tracking.NewPredictionLog(st, tracking.LogConfig{FlushEvery: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)},
		prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { l.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait(); st.Close() })
	return serveRegistry(t, dir, Config{PredictionLog: l, Feedback: st}), st
}

// predictIDs sends n one-row requests to model m and returns their
// prediction ids and the score of each, once every one is logged.
func predictIDs(t *testing.T, ts *testServer, st *tracking.Store, n int) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 5))
	ids := make([]string, n)
	for i := range ids {
		r := ts.do(t, "POST", "/v2/models/m/infer", requestJSON("input", "FP32", []int64{1, 3}, normalRows(rng, 1, -1, 0)))
		var ans struct {
			Parameters struct {
				PredictionID string `json:"prediction_id"`
			} `json:"parameters"`
		}
		if err := json.Unmarshal(r.body, &ans); err != nil || r.status != 200 || ans.Parameters.PredictionID == "" {
			t.Fatalf("infer = %d %s (%v)", r.status, r.body, err)
		}
		ids[i] = ans.Parameters.PredictionID
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range ids {
		for {
			p, err := st.Prediction(context.Background(), id)
			if err == nil {
				if p.Model != "m" || p.Version != 1 || len(p.Inputs) != 12 || len(p.Scores) != 1 {
					t.Fatalf("logged %+v", p)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("prediction %s not logged: %v", id, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return ids
}

// feedbackBody is a JSON array of labels.
func feedbackBody(ids []string, label func(i int) any) string {
	items := make([]map[string]any, len(ids))
	for i, id := range ids {
		items[i] = map[string]any{"prediction_id": id, "label": label(i)}
	}
	b, _ := json.Marshal(items)
	return string(b)
}

// postFeedback posts body to /v1/feedback and decodes its answer.
func postFeedback(t *testing.T, ts *testServer, body string) (int, feedbackAnswer) {
	t.Helper()
	r := ts.do(t, "POST", "/v1/feedback", body)
	var ans feedbackAnswer
	if r.status == 200 || r.status == 207 {
		if err := json.Unmarshal(r.body, &ans); err != nil {
			t.Fatalf("feedback answer %s: %v", r.body, err)
		}
	}
	return r.status, ans
}

func TestFeedbackJoinsLoggedPredictions(t *testing.T) {
	ts, st := startLogServer(t)
	ids := predictIDs(t, ts, st, 1000)
	label := func(i int) any { return i % 2 }

	status, ans := postFeedback(t, ts, feedbackBody(ids, label))
	if status != 200 || ans.Accepted != 1000 || len(ans.Results) != 1000 {
		t.Fatalf("feedback for 1,000 predictions = %d, accepted %d of %d", status, ans.Accepted, len(ans.Results))
	}
	n := 0
	for p, err := range st.Labelled(context.Background(), "m", 1, time.Time{}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if p.LabelTime.Before(p.Time) {
			t.Errorf("%s labelled at %v, before it was answered at %v", p.ID, p.LabelTime, p.Time)
		}
	}
	if n != 1000 {
		t.Errorf("%d labelled predictions; want 1000", n)
	}

	// The same labels again: duplicates, still 200, nothing accepted.
	status, ans = postFeedback(t, ts, feedbackBody(ids[:10], label))
	if status != 200 || ans.Accepted != 0 || ans.Results[3].Status != tracking.FeedbackDuplicate {
		t.Errorf("duplicates = %d %+v", status, ans)
	}

	// A conflict and an unknown id are reported; the rest is taken.
	extra := predictIDs(t, ts, st, 1)[0]
	body := feedbackBody([]string{ids[0], "0000000000000000-00000000deadbeef", extra}, func(i int) any { return []any{1, 1, "legit"}[i] })
	status, ans = postFeedback(t, ts, body)
	if status != 207 || ans.Accepted != 1 {
		t.Fatalf("mixed batch = %d %+v; want 207, one accepted", status, ans)
	}
	for i, want := range []tracking.FeedbackStatus{tracking.FeedbackConflict, tracking.FeedbackUnknown, tracking.FeedbackAccepted} {
		if r := ans.Results[i]; r.Status != want || (want != tracking.FeedbackAccepted && r.Message == "") {
			t.Errorf("item %d = %+v; want %s with a message unless accepted", i, r, want)
		}
	}
	if p, _ := st.Prediction(context.Background(), ids[0]); string(p.Label) != "0" {
		t.Errorf("after a conflict the label is %s; want the first, 0", p.Label)
	}

	// One object rather than an array.
	one := predictIDs(t, ts, st, 1)[0]
	status, ans = postFeedback(t, ts, fmt.Sprintf(`{"prediction_id": %q, "label": 0.5}`, one))
	if status != 200 || ans.Accepted != 1 {
		t.Errorf("one object = %d %+v", status, ans)
	}
}

func TestFeedbackRefusesMalformedBodies(t *testing.T) {
	ts, st := startLogServer(t)
	id := predictIDs(t, ts, st, 1)[0]
	for _, body := range []string{
		`{`, `[]`, `null`, `"x"`, `[1]`,
		fmt.Sprintf(`{"prediction_id": %q, "label": 1, "weight": 2}`, id),
		fmt.Sprintf(`{"prediction_id": %q, "label": 1} {}`, id),
		fmt.Sprintf(`[{"prediction_id": %q, "label": 1}, {"prediction_id": %q, "label": null}]`, id, id),
		fmt.Sprintf(`[{"prediction_id": %q, "label": 1}, {"label": 1}]`, id),
		fmt.Sprintf(`[{"prediction_id": %q, "label": [1]}]`, id),
	} {
		r := ts.do(t, "POST", "/v1/feedback", body)
		if r.status != 400 || !strings.Contains(string(r.body), "error") {
			t.Errorf("body %s = %d %s; want 400 with an error", body, r.status, r.body)
		}
	}
	if p, _ := st.Prediction(context.Background(), id); p.Label != nil {
		t.Errorf("a refused body joined the label %s", p.Label)
	}
}

func TestFeedbackWithoutTrackingIs503(t *testing.T) {
	ts := serveRegistry(t, t.TempDir(), Config{})
	if r := ts.do(t, "POST", "/v1/feedback", `{"prediction_id": "a", "label": 1}`); r.status != 503 {
		t.Errorf("feedback without a store = %d %s; want 503", r.status, r.body)
	}
}
