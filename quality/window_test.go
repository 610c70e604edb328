package quality_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/quality"
)

var t0 = time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)

func newWindow(t *testing.T, cfg quality.Config) *quality.Window {
	t.Helper()
	w, err := quality.NewWindow(cfg)
	if err != nil {
		t.Fatalf("NewWindow(%+v): %v", cfg, err)
	}
	return w
}

// pairwiseAUC is the definition: the share of (positive, negative) pairs
// where the positive scores higher, ties counting one half. O(n²).
func pairwiseAUC(labels []int, scores []float64) float64 {
	var wins float64
	var pairs int
	for i := range labels {
		if labels[i] != 1 {
			continue
		}
		for j := range labels {
			if labels[j] != 0 {
				continue
			}
			pairs++
			switch {
			case scores[i] > scores[j]:
				wins++
			case scores[i] == scores[j]:
				wins += 0.5
			}
		}
	}
	return wins / float64(pairs)
}

func TestWindowBinaryExact(t *testing.T) {
	const n = 1000
	w := newWindow(t, quality.Config{Kind: quality.Binary, MaxCount: n})
	rng := rand.New(rand.NewPCG(1, 27))
	labels, scores := make([]int, n), make([]float64, n)
	var correct int
	var logLoss float64
	for i := range n {
		// Two decimals, so that many scores tie.
		scores[i] = math.Round(rng.Float64()*100) / 100
		if rng.Float64() < scores[i] {
			labels[i] = 1
		}
		if (scores[i] >= 0.5) == (labels[i] == 1) {
			correct++
		}
		p := scores[i]
		if labels[i] == 0 {
			p = 1 - p
		}
		logLoss -= math.Log(max(p, 1e-15))
		err := w.Add(quality.Record{
			Probs: []float64{1 - scores[i], scores[i]}, Label: labels[i],
			PredictedAt: t0, LabelledAt: t0.Add(time.Duration(i) * time.Second),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err := w.Report(t0.Add(time.Hour), 2*n)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Labelled != n || rep.Predicted != 2*n || *rep.LabelledShare != 0.5 {
		t.Fatalf("labelled %d of %d (share %v), want %d of %d (0.5)", rep.Labelled, rep.Predicted, *rep.LabelledShare, n, 2*n)
	}
	if want := float64(correct) / n; *rep.Accuracy != want {
		t.Fatalf("accuracy %v, want %v", *rep.Accuracy, want)
	}
	if want := pairwiseAUC(labels, scores); math.Abs(*rep.AUC-want) > 1e-12 {
		t.Fatalf("AUC %v, want %v by pairs", *rep.AUC, want)
	}
	if want := logLoss / n; math.Abs(*rep.LogLoss-want) > 1e-9 {
		t.Fatalf("log loss %v, want %v", *rep.LogLoss, want)
	}
	if rep.RMSE != nil || rep.MAE != nil {
		t.Fatal("regression metrics reported for a classifier")
	}
	// Delays are 0s..999s: median at rank 499.5 is 499.5s, p90 at rank
	// 899.1 is 899.1s.
	if rep.DelayMedian != 499500*time.Millisecond || rep.DelayP90 != 899100*time.Millisecond {
		t.Fatalf("delay median %v p90 %v, want 8m19.5s and 14m59.1s", rep.DelayMedian, rep.DelayP90)
	}
}

func TestWindowMulticlass(t *testing.T) {
	w := newWindow(t, quality.Config{Kind: quality.Multiclass, Classes: 3, MaxCount: 10})
	add := func(probs []float64, label int) {
		t.Helper()
		if err := w.Add(quality.Record{Probs: probs, Label: label, PredictedAt: t0, LabelledAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	add([]float64{.5, .3, .2}, 0)   // right
	add([]float64{.1, .2, .7}, 1)   // wrong
	add([]float64{.25, .25, .5}, 2) // right
	add([]float64{.4, .4, .2}, 1)   // tie: first class wins, wrong
	rep, err := w.Report(t0, 4)
	if err != nil {
		t.Fatal(err)
	}
	wantLL := -(math.Log(.5) + math.Log(.2) + math.Log(.5) + math.Log(.4)) / 4
	if *rep.Accuracy != 0.5 || math.Abs(*rep.LogLoss-wantLL) > 1e-12 || rep.AUC != nil {
		t.Fatalf("got accuracy %v log loss %v AUC %v, want 0.5, %v, nil", *rep.Accuracy, *rep.LogLoss, rep.AUC, wantLL)
	}
	if rep.DelayMedian != 0 || rep.DelayP90 != 0 {
		t.Fatalf("delays %v %v, want 0", rep.DelayMedian, rep.DelayP90)
	}
}

func TestWindowRegression(t *testing.T) {
	w := newWindow(t, quality.Config{Kind: quality.Regression, MaxCount: 10})
	// Errors 1, -3: RMSE sqrt(5), MAE 2. Delays 1m and 3m: median 2m,
	// p90 at 0.9 of the way: 2m48s.
	for i, r := range [][2]float64{{2, 1}, {4, 7}} {
		err := w.Add(quality.Record{Predicted: r[0], Target: r[1], PredictedAt: t0,
			LabelledAt: t0.Add(time.Duration(2*i+1) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err := w.Report(t0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !near(*rep.RMSE, math.Sqrt(5)) || *rep.MAE != 2 || rep.Accuracy != nil || rep.LogLoss != nil {
		t.Fatalf("got %+v, want RMSE sqrt(5), MAE 2, no classifier metrics", rep)
	}
	if rep.DelayMedian != 2*time.Minute || rep.DelayP90 != 2*time.Minute+48*time.Second {
		t.Fatalf("delay median %v p90 %v, want 2m and 2m48s", rep.DelayMedian, rep.DelayP90)
	}
}

func TestWindowBounds(t *testing.T) {
	w := newWindow(t, quality.Config{Kind: quality.Binary, MaxCount: 3, MaxAge: time.Hour})
	// Predictions at t0, +10m, ..., +40m; all labelled right except the
	// first, so the count bound decides the accuracy.
	for i := range 5 {
		label := 1
		if i == 0 {
			label = 0
		}
		at := t0.Add(time.Duration(i) * 10 * time.Minute)
		if err := w.Add(quality.Record{Probs: []float64{.1, .9}, Label: label, PredictedAt: at, LabelledAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	if w.Len() != 3 {
		t.Fatalf("Len %d, want 3 after 5 adds into 3", w.Len())
	}
	rep, err := w.Report(t0.Add(time.Hour), 3)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Labelled != 3 || *rep.Accuracy != 1 || rep.AUC != nil {
		t.Fatalf("got %d labelled, accuracy %v, AUC %v; want 3, 1, nil (one class)", rep.Labelled, *rep.Accuracy, rep.AUC)
	}
	// At +1h25m the ones predicted at +20m (and before) are over an hour
	// old.
	rep, err = w.Report(t0.Add(85*time.Minute), 2)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Labelled != 2 || w.Len() != 2 {
		t.Fatalf("labelled %d, Len %d, want 2 after aging", rep.Labelled, w.Len())
	}
	rep, err = w.Report(t0.Add(10*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Labelled != 0 || rep.LabelledShare != nil || rep.Accuracy != nil {
		t.Fatalf("got %+v, want an empty report", rep)
	}
}

func TestNewWindowFailure(t *testing.T) {
	f := func(cfg quality.Config) {
		t.Helper()
		if w, err := quality.NewWindow(cfg); !errors.Is(err, quality.ErrWindow) || w != nil {
			t.Fatalf("NewWindow(%+v) = %v, %v; want ErrWindow", cfg, w, err)
		}
	}
	f(quality.Config{Kind: "ranking", MaxCount: 1})
	f(quality.Config{Kind: quality.Binary})
	f(quality.Config{Kind: quality.Binary, MaxCount: -1})
	f(quality.Config{Kind: quality.Binary, MaxCount: 1, MaxAge: -time.Second})
	f(quality.Config{Kind: quality.Multiclass, Classes: 1, MaxCount: 1})
}

func TestWindowAddFailure(t *testing.T) {
	f := func(cfg quality.Config, r quality.Record) {
		t.Helper()
		w := newWindow(t, cfg)
		if err := w.Add(r); !errors.Is(err, quality.ErrRecord) {
			t.Fatalf("Add(%+v): %v, want ErrRecord", r, err)
		}
		if w.Len() != 0 {
			t.Fatalf("Len %d after a refused record, want 0", w.Len())
		}
	}
	bin := quality.Config{Kind: quality.Binary, MaxCount: 5}
	multi := quality.Config{Kind: quality.Multiclass, Classes: 3, MaxCount: 5}
	reg := quality.Config{Kind: quality.Regression, MaxCount: 5}
	f(bin, quality.Record{Probs: []float64{1}, PredictedAt: t0, LabelledAt: t0})
	f(bin, quality.Record{Probs: []float64{.5, .6}, PredictedAt: t0, LabelledAt: t0})
	f(bin, quality.Record{Probs: []float64{-.5, 1.5}, PredictedAt: t0, LabelledAt: t0})
	f(bin, quality.Record{Probs: []float64{math.NaN(), .5}, PredictedAt: t0, LabelledAt: t0})
	f(bin, quality.Record{Probs: []float64{.5, .5}, Label: 2, PredictedAt: t0, LabelledAt: t0})
	f(bin, quality.Record{Probs: []float64{.5, .5}, Label: -1, PredictedAt: t0, LabelledAt: t0})
	f(bin, quality.Record{Probs: []float64{.5, .5}, PredictedAt: t0, LabelledAt: t0.Add(-time.Second)})
	f(multi, quality.Record{Probs: []float64{.5, .5}, PredictedAt: t0, LabelledAt: t0})
	f(multi, quality.Record{Probs: []float64{.2, .3, .5}, Label: 3, PredictedAt: t0, LabelledAt: t0})
	f(reg, quality.Record{Probs: []float64{1}, PredictedAt: t0, LabelledAt: t0})
	f(reg, quality.Record{Predicted: math.NaN(), PredictedAt: t0, LabelledAt: t0})
	f(reg, quality.Record{Target: math.Inf(-1), PredictedAt: t0, LabelledAt: t0})
}

func TestWindowReportFailure(t *testing.T) {
	w := newWindow(t, quality.Config{Kind: quality.Regression, MaxCount: 5})
	for range 2 {
		if err := w.Add(quality.Record{PredictedAt: t0, LabelledAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	for _, predicted := range []int{1, -1} {
		if _, err := w.Report(t0, predicted); !errors.Is(err, quality.ErrWindow) {
			t.Fatalf("Report with %d predictions: %v, want ErrWindow", predicted, err)
		}
	}
	if w.Len() != 2 {
		t.Fatalf("Len %d after refused reports, want 2", w.Len())
	}
}

func TestWindowReportNegative(t *testing.T) {
	w := newWindow(t, quality.Config{Kind: quality.Binary, MaxCount: 5})
	if _, err := w.Report(t0, -1); !errors.Is(err, quality.ErrWindow) {
		t.Fatalf("Report with -1 predictions on an empty window: %v, want ErrWindow", err)
	}
}

// TestWindowConcurrent adds and reports from several goroutines; run with
// -race. Failures are sent back to the test's goroutine.
func TestWindowConcurrent(t *testing.T) {
	w := newWindow(t, quality.Config{Kind: quality.Binary, MaxCount: 50, MaxAge: time.Hour})
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			var err error
			for i := 0; i < 200 && err == nil; i++ {
				err = w.Add(quality.Record{Probs: []float64{.3, .7}, Label: (g + i) % 2, PredictedAt: t0, LabelledAt: t0})
				if err == nil && i%10 == 0 {
					_, err = w.Report(t0, 1000)
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if w.Len() != 50 {
		t.Fatalf("Len %d, want 50", w.Len())
	}
}

// TestWindowCopies checks that Add keeps its own copy of the
// probabilities.
func TestWindowCopies(t *testing.T) {
	w := newWindow(t, quality.Config{Kind: quality.Binary, MaxCount: 5})
	probs := []float64{.2, .8}
	if err := w.Add(quality.Record{Probs: probs, Label: 1, PredictedAt: t0, LabelledAt: t0}); err != nil {
		t.Fatal(err)
	}
	probs[0], probs[1] = .9, .1
	rep, err := w.Report(t0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if *rep.Accuracy != 1 {
		t.Fatalf("accuracy %v after the caller changed its slice, want 1", *rep.Accuracy)
	}
}
