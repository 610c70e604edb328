package gate

import (
	"errors"
	"math"
	"testing"
)

// tol is the tolerance for comparisons against hand-worked values.
const tol = 1e-12

// same reports whether got equals want within tol, treating two NaNs and two
// equal infinities as equal.
func same(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= tol
}

func TestAUCSuccess(t *testing.T) {
	f := func(labels []int, scores []float64, want float64) {
		t.Helper()
		got, err := AUC(labels, scores)
		if err != nil {
			t.Fatalf("AUC(%v, %v) error: %v", labels, scores, err)
		}
		if !same(got, want) {
			t.Fatalf("AUC(%v, %v) = %v; want %v", labels, scores, got, want)
		}
	}
	// scikit-learn's roc_auc_score example. Ranks: 0.1→1 (neg), 0.35→2 (pos),
	// 0.4→3 (neg), 0.8→4 (pos); U = (2+4) − 2·3/2 = 3; AUC = 3/(2·2) = 0.75.
	f([]int{0, 0, 1, 1}, []float64{0.1, 0.4, 0.35, 0.8}, 0.75)
	// Perfect ranking.
	f([]int{0, 0, 1, 1}, []float64{0.1, 0.2, 0.8, 0.9}, 1)
	// Reversed ranking.
	f([]int{0, 0, 1, 1}, []float64{0.9, 0.8, 0.2, 0.1}, 0)
	// Constant scores: every pair ties, each counts one half.
	f([]int{0, 1, 0, 1, 1}, []float64{0.3, 0.3, 0.3, 0.3, 0.3}, 0.5)
	// A tie across classes: pairs (pos, neg) = (0.5, 0.5) ½, (0.5, 0.2) 1,
	// (0.9, 0.5) 1, (0.9, 0.2) 1; AUC = 3.5/4.
	f([]int{0, 1, 0, 1}, []float64{0.5, 0.5, 0.2, 0.9}, 0.875)
	// Ties within a class only change nothing: positives 0.7, 0.7 beat 0.2.
	f([]int{1, 1, 0}, []float64{0.7, 0.7, 0.2}, 1)
	// Unbalanced: positives 0.9 (beats 3) and 0.4 (beats 0.3, 0.1); 5/6.
	f([]int{1, 0, 0, 0, 1}, []float64{0.9, 0.8, 0.3, 0.1, 0.4}, 5.0/6)
	// Infinite scores are ordered like any other.
	f([]int{0, 1, 0}, []float64{math.Inf(-1), math.Inf(1), 0}, 1)
	// Smallest case.
	f([]int{1, 0}, []float64{0, 1}, 0)
}

func TestAUCFailure(t *testing.T) {
	f := func(labels []int, scores []float64, want error) {
		t.Helper()
		got, err := AUC(labels, scores)
		if !errors.Is(err, want) {
			t.Fatalf("AUC(%v, %v) = %v, %v; want error %v", labels, scores, got, err, want)
		}
	}
	f(nil, nil, ErrEmpty)
	f([]int{0, 1}, []float64{0.5}, ErrLength)
	f([]int{0, 0, 0}, []float64{0.1, 0.2, 0.3}, ErrDegenerate) // one class
	f([]int{1, 1}, []float64{0.1, 0.2}, ErrDegenerate)         // one class
	f([]int{1}, []float64{0.1}, ErrDegenerate)
	f([]int{0, 1, 0}, []float64{0.1, math.NaN(), 0.3}, ErrNaN)
	f([]int{0, 2, 1}, []float64{0.1, 0.2, 0.3}, ErrLabel)
	f([]int{0, -1, 1}, []float64{0.1, 0.2, 0.3}, ErrLabel)
}

func TestMacroAUCSuccess(t *testing.T) {
	f := func(labels []int, probs [][]float64, want float64) {
		t.Helper()
		got, err := MacroAUC(labels, probs)
		if err != nil {
			t.Fatalf("MacroAUC(%v, %v) error: %v", labels, probs, err)
		}
		if !same(got, want) {
			t.Fatalf("MacroAUC(%v, %v) = %v; want %v", labels, probs, got, want)
		}
	}
	// Class 0: 0.7 beats 0.2, 0.1, 0.3: 1. Class 1: 0.5 beats 0.2, 0.3, 0.4: 1.
	// Class 2: positives 0.6, 0.3 against 0.1, 0.3: (1 + 1 + 1 + ½)/4 = 0.875.
	// Mean: 2.875/3.
	f([]int{0, 1, 2, 2}, [][]float64{
		{0.7, 0.2, 0.1},
		{0.2, 0.5, 0.3},
		{0.1, 0.3, 0.6},
		{0.3, 0.4, 0.3},
	}, 2.875/3)
	// Class 1 is absent and skipped. Class 0: positives 0.6, 0.3 against
	// 0.2, 0.5: 3/4. Class 2: positives 0.7, 0.4 against 0.3, 0.4: 3.5/4.
	// Mean over the two present classes: 0.8125.
	f([]int{0, 0, 2, 2}, [][]float64{
		{0.6, 0.1, 0.3},
		{0.3, 0.3, 0.4},
		{0.2, 0.1, 0.7},
		{0.5, 0.1, 0.4},
	}, 0.8125)
	// Two columns that are complements: both one-vs-rest AUCs equal the
	// binary AUC of the example in TestAUCSuccess.
	f([]int{0, 0, 1, 1}, [][]float64{{0.9, 0.1}, {0.6, 0.4}, {0.65, 0.35}, {0.2, 0.8}}, 0.75)
	// Constant scores.
	f([]int{0, 1, 2}, [][]float64{{0.2, 0.3, 0.5}, {0.2, 0.3, 0.5}, {0.2, 0.3, 0.5}}, 0.5)
}

func TestMacroAUCFailure(t *testing.T) {
	f := func(labels []int, probs [][]float64, want error) {
		t.Helper()
		got, err := MacroAUC(labels, probs)
		if !errors.Is(err, want) {
			t.Fatalf("MacroAUC(%v, %v) = %v, %v; want error %v", labels, probs, got, err, want)
		}
	}
	f(nil, nil, ErrEmpty)
	f([]int{0}, [][]float64{{1, 0}, {0, 1}}, ErrLength)
	f([]int{0, 1}, [][]float64{{1, 0}, {0, 0, 1}}, ErrLength)          // ragged
	f([]int{0, 0}, [][]float64{{}, {}}, ErrLength)                     // width 0
	f([]int{1, 1}, [][]float64{{0.5, 0.5}, {0.2, 0.8}}, ErrDegenerate) // one class
	f([]int{0, 3}, [][]float64{{0.5, 0.5}, {0.2, 0.8}}, ErrLabel)
	f([]int{0, -1}, [][]float64{{0.5, 0.5}, {0.2, 0.8}}, ErrLabel)
	f([]int{0, 1}, [][]float64{{0.5, math.NaN()}, {0.2, 0.8}}, ErrNaN)
}

func TestAccuracy(t *testing.T) {
	f := func(labels, predicted []int, want float64) {
		t.Helper()
		if got := Accuracy(labels, predicted); !same(got, want) {
			t.Fatalf("Accuracy(%v, %v) = %v; want %v", labels, predicted, got, want)
		}
	}
	f([]int{0, 1, 2, 2}, []int{0, 2, 2, 1}, 0.5) // rows 0 and 2 hit
	// scikit-learn's accuracy_score example: 0.5.
	f([]int{0, 1, 2, 3}, []int{0, 2, 1, 3}, 0.5)
	f([]int{1, 1, 1}, []int{1, 1, 1}, 1) // one class, perfect
	f([]int{1, 1, 1}, []int{0, 0, 0}, 0)
	f(nil, nil, math.NaN())
	f([]int{1}, []int{1, 1}, math.NaN())
}

func TestPrecisionRecallF1(t *testing.T) {
	f := func(labels, predicted []int, positive int, wantP, wantR, wantF1 float64) {
		t.Helper()
		p, r, f1 := PrecisionRecallF1(labels, predicted, positive)
		if !same(p, wantP) || !same(r, wantR) || !same(f1, wantF1) {
			t.Fatalf("PrecisionRecallF1(%v, %v, %d) = %v, %v, %v; want %v, %v, %v",
				labels, predicted, positive, p, r, f1, wantP, wantR, wantF1)
		}
	}
	// Positive 1: TP rows 0, 4; FP row 3; FN row 1. P = R = F1 = 2/3.
	f([]int{1, 1, 0, 0, 1}, []int{1, 0, 0, 1, 1}, 1, 2.0/3, 2.0/3, 2.0/3)
	// Positive 0 on the same rows: TP row 2, FP row 1, FN row 3. All ½.
	f([]int{1, 1, 0, 0, 1}, []int{1, 0, 0, 1, 1}, 0, 0.5, 0.5, 0.5)
	// Unequal P and R: TP 1, FP 0, FN 1: P = 1, R = ½, F1 = 2·½/1.5 = 2/3.
	f([]int{1, 1, 0}, []int{1, 0, 0}, 1, 1, 0.5, 2.0/3)
	// Multiclass, positive 2: TP row 3, FP row 1, FN row 2: ½ each.
	f([]int{0, 1, 2, 2}, []int{0, 2, 1, 2}, 2, 0.5, 0.5, 0.5)
	// Never predicted: precision undefined, reported 0.
	f([]int{1, 0}, []int{0, 0}, 1, 0, 0, 0)
	// Never occurs: recall undefined, reported 0.
	f([]int{0, 0}, []int{1, 0}, 1, 0, 0, 0)
	// Neither predicted nor present: everything undefined, reported 0.
	f([]int{0, 0}, []int{0, 0}, 1, 0, 0, 0)
	// Perfect on one class.
	f([]int{1, 1}, []int{1, 1}, 1, 1, 1, 1)
	// scikit-learn's precision_score, recall_score and f1_score examples
	// with average=None: precision [0.66666667, 0, 0], recall [1, 0, 0],
	// F1 [0.8, 0, 0].
	sk, skPred := []int{0, 1, 2, 0, 1, 2}, []int{0, 2, 1, 0, 0, 1}
	f(sk, skPred, 0, 2.0/3, 1, 0.8)
	f(sk, skPred, 1, 0, 0, 0)
	f(sk, skPred, 2, 0, 0, 0)
	f(nil, nil, 1, math.NaN(), math.NaN(), math.NaN())
	f([]int{1, 0}, []int{1}, 1, math.NaN(), math.NaN(), math.NaN())
}

func TestMacroWeightedF1(t *testing.T) {
	f := func(labels, predicted []int, wantMacro, wantWeighted float64) {
		t.Helper()
		if got := MacroF1(labels, predicted); !same(got, wantMacro) {
			t.Fatalf("MacroF1(%v, %v) = %v; want %v", labels, predicted, got, wantMacro)
		}
		if got := WeightedF1(labels, predicted); !same(got, wantWeighted) {
			t.Fatalf("WeightedF1(%v, %v) = %v; want %v", labels, predicted, got, wantWeighted)
		}
	}
	// scikit-learn's f1_score example: class 0 has TP 2, 3 predicted, support
	// 2, F1 = 4/5; classes 1 and 2 have no TP. Macro = weighted = 0.8/3.
	f([]int{0, 1, 2, 0, 1, 2}, []int{0, 2, 1, 0, 0, 1}, 0.8/3, 0.8/3)
	// Class 0: TP 2, predicted 2, support 3: F1 = 4/5. Class 1: TP 1,
	// predicted 2, support 1: F1 = 2/3. Macro = 11/15; weighted =
	// (3·4/5 + 1·2/3)/4 = 23/30.
	f([]int{0, 0, 0, 1}, []int{0, 0, 1, 1}, 11.0/15, 23.0/30)
	// Class 1 only predicted: F1 0, counted by macro, weight 0 in weighted.
	// Class 0: TP 1, predicted 1, support 2: F1 = 2/3.
	f([]int{0, 0}, []int{0, 1}, 1.0/3, 2.0/3)
	// One class, perfect.
	f([]int{1, 1, 1}, []int{1, 1, 1}, 1, 1)
	// Arbitrary class values, including negative ones.
	f([]int{-5, 7}, []int{-5, 7}, 1, 1)
	f(nil, nil, math.NaN(), math.NaN())
	f([]int{0}, []int{0, 1}, math.NaN(), math.NaN())
}

func TestLogLossSuccess(t *testing.T) {
	f := func(labels []int, probs [][]float64, want float64) {
		t.Helper()
		got, err := LogLoss(labels, probs)
		if err != nil {
			t.Fatalf("LogLoss(%v, %v) error: %v", labels, probs, err)
		}
		if !same(got, want) {
			t.Fatalf("LogLoss(%v, %v) = %v; want %v", labels, probs, got, want)
		}
	}
	// scikit-learn's log_loss example (ham = 0, spam = 1): the true-class
	// probabilities are 0.9, 0.9, 0.8, 0.65;
	// −(2·ln 0.9 + ln 0.8 + ln 0.65)/4 ≈ 0.21616.
	f([]int{1, 0, 0, 1}, [][]float64{{0.1, 0.9}, {0.9, 0.1}, {0.8, 0.2}, {0.35, 0.65}},
		-(2*math.Log(0.9)+math.Log(0.8)+math.Log(0.65))/4)
	// The same, against the value scikit-learn prints (0.21616...) worked
	// to 40 digits by hand: 0.2161618746805791539007582966414205677145.
	f([]int{1, 0, 0, 1}, [][]float64{{0.1, 0.9}, {0.9, 0.1}, {0.8, 0.2}, {0.35, 0.65}}, 0.21616187468057915390)
	// Multiclass: −(ln 0.7 + ln 0.5)/2.
	f([]int{0, 2}, [][]float64{{0.7, 0.2, 0.1}, {0.25, 0.25, 0.5}}, -(math.Log(0.7)+math.Log(0.5))/2)
	// A certain, wrong answer is clipped to 1e-15: −ln 1e-15 ≈ 34.539.
	f([]int{0}, [][]float64{{0, 1}}, -math.Log(1e-15))
	// A certain, right answer is clipped to 1 − 1e-15.
	f([]int{1}, [][]float64{{0, 1}}, -math.Log(1-1e-15))
	// Rows summing to 1 within 1e-3 are accepted as they are.
	f([]int{0}, [][]float64{{0.5, 0.5009}}, -math.Log(0.5))
	// Uniform over two classes: ln 2.
	f([]int{0, 1}, [][]float64{{0.5, 0.5}, {0.5, 0.5}}, math.Ln2)
}

func TestLogLossFailure(t *testing.T) {
	f := func(labels []int, probs [][]float64, want error) {
		t.Helper()
		got, err := LogLoss(labels, probs)
		if !errors.Is(err, want) {
			t.Fatalf("LogLoss(%v, %v) = %v, %v; want error %v", labels, probs, got, err, want)
		}
	}
	f(nil, nil, ErrEmpty)
	f([]int{0, 1}, [][]float64{{1, 0}}, ErrLength)
	f([]int{0, 1}, [][]float64{{1, 0}, {0, 0, 1}}, ErrLength)
	f([]int{2}, [][]float64{{0.5, 0.5}}, ErrLabel)
	f([]int{-1}, [][]float64{{0.5, 0.5}}, ErrLabel)
	f([]int{0}, [][]float64{{0.5, 0.4}}, ErrNotProbabilities)      // sums to 0.9
	f([]int{0}, [][]float64{{0.5, 0.502}}, ErrNotProbabilities)    // sums to 1.002
	f([]int{0}, [][]float64{{-0.1, 1.1}}, ErrNotProbabilities)     // negative
	f([]int{0}, [][]float64{{math.NaN(), 1}}, ErrNotProbabilities) // NaN
	f([]int{0}, [][]float64{{math.Inf(1), 0}}, ErrNotProbabilities)
}

func TestBrier(t *testing.T) {
	f := func(labels []int, probs []float64, want float64) {
		t.Helper()
		if got := Brier(labels, probs); !same(got, want) {
			t.Fatalf("Brier(%v, %v) = %v; want %v", labels, probs, got, want)
		}
	}
	// scikit-learn's brier_score_loss example:
	// (0.1² + 0.1² + 0.2² + 0.3²)/4 = 0.15/4 = 0.0375.
	f([]int{0, 1, 1, 0}, []float64{0.1, 0.9, 0.8, 0.3}, 0.0375)
	// Its example of hard predictions, y_prob > 0.5: 0.0.
	f([]int{0, 1, 1, 0}, []float64{0, 1, 1, 0}, 0)
	f([]int{0, 1}, []float64{0, 1}, 0)        // perfect
	f([]int{0, 1}, []float64{1, 0}, 1)        // certain and wrong
	f([]int{1, 1}, []float64{0.5, 0.5}, 0.25) // one class, constant scores
	f(nil, nil, math.NaN())
	f([]int{0, 1}, []float64{0.5}, math.NaN())
	f([]int{0, 2}, []float64{0.5, 0.5}, math.NaN())
	f([]int{0, 1}, []float64{0.5, math.NaN()}, math.NaN())
}

func TestECE(t *testing.T) {
	f := func(labels []int, probs []float64, bins int, want float64) {
		t.Helper()
		if got := ECE(labels, probs, bins); !same(got, want) {
			t.Fatalf("ECE(%v, %v, %d) = %v; want %v", labels, probs, bins, got, want)
		}
	}
	// Two bins. [0, 0.5): 0.2 (0), 0.4 (1): mean p 0.3, rate 0.5, gap 0.2,
	// weight 2/5 → 0.08. [0.5, 1]: 0.6 (1), 0.8 (0), 0.9 (1): mean p 2.3/3,
	// rate 2/3, gap 0.1, weight 3/5 → 0.06. ECE = 0.14.
	f([]int{0, 1, 1, 0, 1}, []float64{0.2, 0.4, 0.6, 0.8, 0.9}, 2, 0.14)
	// Perfectly calibrated extremes; 1 falls in the last bin.
	f([]int{0, 0, 1, 1}, []float64{0, 0, 1, 1}, 10, 0)
	// Constant 0.5 with balanced labels: one bin, gap 0.
	f([]int{0, 1, 0, 1}, []float64{0.5, 0.5, 0.5, 0.5}, 10, 0)
	// One class, constant scores: gap |0.3 − 0| = 0.3.
	f([]int{0, 0, 0}, []float64{0.3, 0.3, 0.3}, 5, 0.3)
	// One bin: |mean p − rate| = |0.5 − 0.25|.
	f([]int{1, 0, 0, 0}, []float64{0.2, 0.4, 0.6, 0.8}, 1, 0.25)
	// Out of range probabilities go to the end bins with their value.
	f([]int{1, 0}, []float64{1.5, -0.5}, 2, 0.5)
	f(nil, nil, 10, math.NaN())
	f([]int{0, 1}, []float64{0.5}, 10, math.NaN())
	f([]int{0, 1}, []float64{0.2, 0.8}, 0, math.NaN())
	f([]int{0, 3}, []float64{0.2, 0.8}, 10, math.NaN())
	f([]int{0, 1}, []float64{0.2, math.NaN()}, 10, math.NaN())
}
