package quality_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/quality"
)

// identity calibrates every score in [0, 1] to itself.
var identity = &quality.Calibration{Method: "isotonic", Thresholds: []float64{0, 1}, Values: []float64{0, 1}}

func TestEstimateSuccess(t *testing.T) {
	f := func(cal *quality.Calibration, scores []float64, acc, auc float64) {
		t.Helper()
		est, err := quality.Estimate(cal, scores)
		if err != nil {
			t.Fatalf("Estimate: %v", err)
		}
		if est.Rows != len(scores) || !near(est.Accuracy, acc) {
			t.Fatalf("rows %d accuracy %v, want %d and %v", est.Rows, est.Accuracy, len(scores), acc)
		}
		if est.AUC == nil || !near(*est.AUC, auc) {
			t.Fatalf("AUC %v, want %v", est.AUC, auc)
		}
	}
	// p = .9 .8 .3 .1. Accuracy: (.9 + .8 + .7 + .9)/4 = .825.
	// Expected positives P = 2.1, negatives N = 1.9. Lowering the
	// threshold past each score, (FP, TP): (.1, .9) (.3, 1.7) (1, 2)
	// (1.9, 2.1). Trapezoids from (0, 0): .1*.9/2 + .2*2.6/2 + .7*3.7/2 +
	// .9*4.1/2 = .045 + .26 + 1.295 + 1.845 = 3.445; AUC = 3.445/(P*N).
	f(identity, []float64{.3, .9, .1, .8}, .825, 3.445/(2.1*1.9))
	// Tied scores .6 .6 .2: one threshold for both .6 rows.
	// Accuracy (.6 + .6 + .8)/3 = 2/3. P = 1.4, N = 1.6; points (.8, 1.2)
	// then (1.6, 1.4): .8*1.2/2 + .8*2.6/2 = .48 + 1.04 = 1.52.
	f(identity, []float64{.6, .2, .6}, 2.0/3, 1.52/(1.4*1.6))
	// A calibration that squeezes: scores 0 and 10 clip to .2 and .6, 5
	// interpolates to .4. Accuracy (.8 + .6 + .6)/3 = 2/3. P = 1.2,
	// N = 1.8; points (.4, .6) (1, 1) (1.8, 1.2): .4*.6/2 + .6*1.6/2 +
	// .8*2.2/2 = .12 + .48 + .88 = 1.48.
	sq := &quality.Calibration{Method: "isotonic", Thresholds: []float64{1, 9}, Values: []float64{.2, .6}}
	f(sq, []float64{0, 5, 10}, 2.0/3, 1.48/(1.2*1.8))
}

func TestEstimateNoCurve(t *testing.T) {
	est, err := quality.Estimate(identity, []float64{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	if est.Accuracy != 1 || est.AUC != nil {
		t.Fatalf("got %+v, want accuracy 1 and no AUC", est)
	}
}

func TestEstimateFailure(t *testing.T) {
	f := func(scores []float64) {
		t.Helper()
		if _, err := quality.Estimate(identity, scores); !errors.Is(err, quality.ErrScores) {
			t.Fatalf("Estimate(%v): %v, want ErrScores", scores, err)
		}
	}
	f(nil)
	f([]float64{.5, math.NaN()})
}

// TestEstimateCalibratedStream checks CBPE against the realised figures on
// a calibrated, unshifted stream: scores uniform, labels Bernoulli(score).
// Windows hold 5,000 rows: whether a row is classified right is Bernoulli
// with mean max(p, 1-p), whose variance averages 1/6 for uniform p, so the
// realised accuracy of a window scatters around the expected one with a
// standard deviation of sqrt(1/6/5000) ≈ 0.0058; 0.02 is 3.5 of those, so
// ten windows stay within it with a probability above 99%, and the fixed
// seed makes the test repeatable.
func TestEstimateCalibratedStream(t *testing.T) {
	const windows, size = 10, 5000
	rng := rand.New(rand.NewPCG(27, 2))
	draw := func(n int) ([]float64, []int) {
		scores, labels := make([]float64, n), make([]int, n)
		for i := range scores {
			scores[i] = rng.Float64()
			if rng.Float64() < scores[i] {
				labels[i] = 1
			}
		}
		return scores, labels
	}
	cal, err := quality.Fit(draw(20000))
	if err != nil {
		t.Fatal(err)
	}
	for w := range windows {
		scores, labels := draw(size)
		est, err := quality.Estimate(cal, scores)
		if err != nil {
			t.Fatal(err)
		}
		predicted := make([]int, size)
		for i, s := range scores {
			if s >= 0.5 {
				predicted[i] = 1
			}
		}
		acc := gate.Accuracy(labels, predicted)
		auc, err := gate.AUC(labels, scores)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("window %d: accuracy estimated %.4f realised %.4f; AUC estimated %.4f realised %.4f",
			w, est.Accuracy, acc, *est.AUC, auc)
		if math.Abs(est.Accuracy-acc) > 0.02 {
			t.Errorf("window %d: estimated accuracy %.4f, realised %.4f: more than 0.02 apart", w, est.Accuracy, acc)
		}
		if math.Abs(*est.AUC-auc) > 0.03 {
			t.Errorf("window %d: estimated AUC %.4f, realised %.4f: more than 0.03 apart", w, *est.AUC, auc)
		}
	}
}
