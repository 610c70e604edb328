package tracking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestPredictionLogRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	at := time.Unix(1700000000, 5)
	ps := []Prediction{
		{ID: "a-1", Time: at, Model: "fraud", Version: 2, Arm: "canary", Inputs: []byte{1, 2, 3}, Scores: []float64{0.25}},
		{ID: "a-2", Time: at.Add(time.Second), Model: "fraud", Version: 2},
	}
	if err := s.LogPredictions(ctx, ps); err != nil {
		t.Fatal(err)
	}
	// Logging an id again leaves the first record.
	if err := s.LogPredictions(ctx, []Prediction{{ID: "a-1", Model: "other", Version: 9}}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Prediction(ctx, "a-1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Model != "fraud" || p.Version != 2 || p.Arm != "canary" || !p.Time.Equal(at) || string(p.Inputs) != "\x01\x02\x03" ||
		len(p.Scores) != 1 || p.Scores[0] != 0.25 || p.Label != nil {
		t.Errorf("Prediction(a-1) = %+v", p)
	}
	if p, err := s.Prediction(ctx, "a-2"); err != nil || p.Inputs != nil || len(p.Scores) != 0 {
		t.Errorf("Prediction(a-2) = %+v, %v", p, err)
	}
	if _, err := s.Prediction(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Prediction(nope): %v; want ErrNotFound", err)
	}
}

func TestLogPredictionsRefusesBadRecords(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	err := s.LogPredictions(ctx, []Prediction{{ID: "ok", Model: "m"}, {ID: "", Model: "m"}})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("LogPredictions without an id: %v; want ErrInvalid", err)
	}
	if _, err := s.Prediction(ctx, "ok"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused batch left a record behind: %v", err)
	}
}

func TestPrunePredictions(t *testing.T) {
	ctx := context.Background()
	// A segment a prediction: each batch begins a new one.
	s := openAt(t, newTestDB(t), Config{SegmentBytes: 1})
	now := time.Now()
	for i := range 10 {
		p := Prediction{ID: fmt.Sprintf("p-%02d", i), Time: now.Add(time.Duration(i-10) * time.Hour), Model: "m", Version: 1,
			Inputs: make([]byte, 1000)}
		if err := s.LogPredictions(ctx, []Prediction{p}); err != nil {
			t.Fatal(err)
		}
	}
	// Another model's log is its own.
	if err := s.LogPredictions(ctx, []Prediction{{ID: "o-1", Time: now.Add(-20 * time.Hour), Model: "other"}}); err != nil {
		t.Fatal(err)
	}
	// By age: the three oldest (10, 9 and 8 hours old) go.
	n, err := s.PrunePredictions(ctx, "m", now.Add(-7*time.Hour-time.Minute), 0)
	if err != nil || n != 3 {
		t.Fatalf("PrunePredictions by age = %d, %v; want 3", n, err)
	}
	if _, err := s.Prediction(ctx, "p-02"); !errors.Is(err, ErrNotFound) {
		t.Errorf("p-02 past retention is still there: %v", err)
	}
	// By size: about 1,040 bytes each, 2,500 keep the two newest.
	n, err = s.PrunePredictions(ctx, "m", time.Time{}, 2500)
	if err != nil || n != 5 {
		t.Fatalf("PrunePredictions by size = %d, %v; want 5", n, err)
	}
	for i, want := range map[int]bool{7: false, 8: true, 9: true} {
		_, err := s.Prediction(ctx, fmt.Sprintf("p-%02d", i))
		if got := err == nil; got != want {
			t.Errorf("p-%02d kept = %v; want %v", i, got, want)
		}
	}
	if _, err := s.Prediction(ctx, "o-1"); err != nil {
		t.Errorf("pruning m removed other's prediction: %v", err)
	}
}

func TestLabelledYieldsJoinedRecords(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	now := time.Now()
	var ps []Prediction
	for i := range 6 {
		ps = append(ps, Prediction{ID: fmt.Sprintf("l-%d", i), Time: now.Add(time.Duration(i) * time.Second), Model: "m", Version: 1 + i%2,
			Scores: []float64{float64(i) / 10}})
	}
	if err := s.LogPredictions(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Feedback(ctx, []Label{{"l-0", []byte(`1`)}, {"l-2", []byte(`"fraud"`)}, {"l-4", []byte(`0`)}, {"l-1", []byte(`1`)}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for p, err := range s.Labelled(ctx, "m", 1, now.Add(time.Second), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if p.LabelTime.IsZero() || len(p.Scores) != 1 {
			t.Errorf("%s: label time %v, scores %v", p.ID, p.LabelTime, p.Scores)
		}
		got = append(got, p.ID+"="+string(p.Label))
	}
	if fmt.Sprint(got) != `[l-2="fraud" l-4=0]` {
		t.Errorf("Labelled(m, 1, since) = %v", got)
	}
	got = got[:0]
	for p, err := range s.Labelled(ctx, "m", 1, time.Time{}, 2) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.ID)
	}
	if fmt.Sprint(got) != `[l-2 l-4]` {
		t.Errorf("Labelled(m, 1, last 2) = %v; want the newest two, in order", got)
	}
}

// newTestLog returns a prediction log on a fresh store, not yet running.
func newTestLog(t *testing.T, cfg LogConfig) (*Store, *PredictionLog) {
	t.Helper()
	s := openTest(t)
	cfg.Logger = slog.New(slog.DiscardHandler)
	l, err := NewPredictionLog(s, cfg, prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return s, l
}

func TestPredictionLogWritesOfferedRecords(t *testing.T) {
	s, l := newTestLog(t, LogConfig{FlushEvery: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	for i := range 100 {
		r := l.Take("m", []byte(fmt.Sprintf("id-%03d", i)))
		if r == nil {
			t.Fatalf("Take %d = nil", i)
		}
		r.Set(3, "stable", time.Now())
		r.AppendInputs([]byte{byte(i)})
		r.AddScore(float64(i))
		l.Offer(r)
	}
	cancel()
	<-done
	for i := range 100 {
		p, err := s.Prediction(context.Background(), fmt.Sprintf("id-%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		if p.Version != 3 || p.Arm != "stable" || len(p.Inputs) != 1 || p.Inputs[0] != byte(i) || p.Scores[0] != float64(i) {
			t.Errorf("record %d = %+v", i, p)
		}
	}
	if n := testutil.ToFloat64(l.written); n != 100 {
		t.Errorf("written = %v; want 100", n)
	}
}

func TestPredictionLogFullBufferDropsWithoutBlocking(t *testing.T) {
	_, l := newTestLog(t, LogConfig{MaxBuffer: 200})
	// No writer runs: the buffer fills after a few records.
	kept := 0
	for i := range 10 {
		if r := l.Take("m", []byte{byte(i)}); r != nil {
			r.Set(1, "", time.Now())
			r.AppendInputs(make([]byte, 40))
			l.Offer(r)
			kept++
		}
	}
	if n := testutil.ToFloat64(l.dropped); kept == 0 || n != float64(10-kept) || kept > 5 {
		t.Errorf("kept %d, dropped %v; want a few kept, the rest of 10 dropped", kept, n)
	}
}

// TestPredictionLogRecordsRoundTrip encodes records through the request
// path's setters, with inputs past the cap and no scores, and reads them
// back through the segment files, OnWrite and a follower.
func TestPredictionLogRecordsRoundTrip(t *testing.T) {
	var seen, followed []string
	s, l := newTestLog(t, LogConfig{OnWrite: func(ps []Prediction) {
		for _, p := range ps {
			seen = append(seen, fmt.Sprintf("%s/%d@%d %v %q %d", p.Model, p.Version, p.Time.Unix(), p.Scores, p.ID, len(p.Inputs)))
		}
	}})
	l.Follow(func(string, []PredictionView) { t.Error("a replaced follower was called") })
	l.Follow(func(model string, batch []PredictionView) {
		for _, v := range batch {
			followed = append(followed, fmt.Sprintf("%s/%d@%d %v %q %q", model, v.Version, v.Time.Unix(), v.Scores, v.ID, v.Inputs))
		}
	})
	r := l.Take("m", []byte("big"))
	r.Set(2, "canary", time.Unix(1_800_000_000, 7))
	r.AppendInputs(make([]byte, maxLogInputs-10))
	r.AppendInputs(make([]byte, 20)) // past the cap: no inputs kept
	r.AppendInputs([]byte{1})
	l.Offer(r)
	r = l.Take("m", []byte("plain"))
	r.Set(3, "", time.Unix(1_800_000_001, 0))
	r.AppendInputs([]byte{9, 8})
	r.AddScore(0.25)
	r.AddScore(0.75)
	l.Offer(r)
	l.flush()
	p, err := s.Prediction(context.Background(), "big")
	if err != nil || p.Version != 2 || p.Arm != "canary" || p.Inputs != nil || len(p.Scores) != 0 || p.Time.UnixNano() != 1_800_000_000_000_000_007 {
		t.Errorf("Prediction(big) = %+v, %v", p, err)
	}
	p, err = s.Prediction(context.Background(), "plain")
	if err != nil || p.Version != 3 || string(p.Inputs) != "\x09\x08" || fmt.Sprint(p.Scores) != "[0.25 0.75]" {
		t.Errorf("Prediction(plain) = %+v, %v", p, err)
	}
	if fmt.Sprint(seen) != `[m/2@1800000000 [] "" 0 m/3@1800000001 [0.25 0.75] "" 0]` {
		t.Errorf("OnWrite saw %v", seen)
	}
	if fmt.Sprint(followed) != `[m/2@1800000000 [] "big" "" m/3@1800000001 [0.25 0.75] "plain" "\t\b"]` {
		t.Errorf("the follower saw %v", followed)
	}
}

func TestPredictionLogSamplesByID(t *testing.T) {
	policy := func(model string) (LogPolicy, error) {
		p := DefaultLogPolicy()
		switch model {
		case "quarter":
			p.Sample = 0.25
		case "none":
			p.Sample = 0
		}
		return p, nil
	}
	_, l := newTestLog(t, LogConfig{Policy: policy})
	_, l2 := newTestLog(t, LogConfig{Policy: policy})
	for _, m := range []string{"quarter", "none"} {
		l.readPolicy(m)
		l2.readPolicy(m)
	}
	kept := 0
	for i := range 4000 {
		id := []byte(fmt.Sprintf("3f9a1c0b5e7d2a48-%016x", i))
		r, r2 := l.Take("quarter", id), l2.Take("quarter", id)
		if (r == nil) != (r2 == nil) {
			t.Fatalf("two logs disagree on %s", id)
		}
		if r != nil {
			kept++
		}
		l.Offer(r) // a taken record holds its buffer's lock until offered
		l2.Offer(r2)
	}
	if kept < 850 || kept > 1150 {
		t.Errorf("sample 0.25 kept %d of 4000", kept)
	}
	if r := l.Take("none", []byte("x")); r != nil {
		l.Offer(r)
		t.Error("a sample of 0 logged a prediction")
	}
	r := l.Take("unseen", []byte("x"))
	if r == nil {
		t.Error("a model whose policy the writer has not read yet was not logged")
	}
	l.Offer(r)
}
