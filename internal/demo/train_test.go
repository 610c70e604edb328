package demo

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestAUC(t *testing.T) {
	f := func(scores []float64, labels []int, want float64) {
		t.Helper()
		if got := auc(scores, labels); math.Abs(got-want) > 1e-12 {
			t.Fatalf("auc(%v, %v) = %v; want %v", scores, labels, got, want)
		}
	}
	f([]float64{0.1, 0.2, 0.8, 0.9}, []int{0, 0, 1, 1}, 1)
	f([]float64{0.9, 0.8, 0.2, 0.1}, []int{0, 0, 1, 1}, 0)
	f([]float64{0.5, 0.5, 0.5, 0.5}, []int{0, 1, 0, 1}, 0.5)
	f([]float64{0.1, 0.4, 0.35, 0.8}, []int{0, 0, 1, 1}, 0.75)
}

// trained returns the demo split of seed 1: 16,000 training rows and 4,000
// held out, and the classifier trained on the first part.
func trained(t *testing.T) (*Classifier, *Dataset) {
	t.Helper()
	train, test := Generate(1, 20000).Split(16000)
	c, err := Train(train)
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	return c, test
}

func TestTrainBeatsBaseline(t *testing.T) {
	c, test := trained(t)
	n := float64(test.Len())
	scores := make([]float64, test.Len())
	var positives, correct, logLoss float64
	for i := range test.Len() {
		p, y := c.Probability(test.Row(i)), test.Y[i]
		scores[i] = p
		positives += float64(y)
		if (p > 0.5) == (y == 1) {
			correct++
		}
		if y == 1 {
			logLoss -= math.Log(p)
		} else {
			logLoss -= math.Log(1 - p)
		}
	}
	rate := positives / n
	baselineAccuracy := max(rate, 1-rate)
	baselineLogLoss := -(rate*math.Log(rate) + (1-rate)*math.Log(1-rate))
	accuracy, logLoss := correct/n, logLoss/n
	a := auc(scores, test.Y)
	t.Logf("held out: AUC %.4f, accuracy %.4f (baseline %.4f), log loss %.4f (baseline %.4f)",
		a, accuracy, baselineAccuracy, logLoss, baselineLogLoss)
	if a < 0.83 || a > 0.93 {
		t.Fatalf("AUC = %.4f; want between 0.83 and 0.93", a)
	}
	if accuracy <= baselineAccuracy {
		t.Fatalf("accuracy %.4f does not beat always predicting the majority class (%.4f)", accuracy, baselineAccuracy)
	}
	if logLoss >= 0.9*baselineLogLoss {
		t.Fatalf("log loss %.4f is not well below the constant-rate baseline %.4f", logLoss, baselineLogLoss)
	}
}

func TestTrainDeterministic(t *testing.T) {
	t.Parallel()
	a, _ := trained(t)
	b, _ := trained(t)
	if *a != *b {
		t.Fatalf("two trainings on the same data differ:\n%+v\n%+v", a, b)
	}
	if !bytes.Equal(a.LogReg().Model().Marshal(), b.LogReg().Model().Marshal()) {
		t.Fatalf("two trainings on the same data give different model bytes")
	}
}

// TestFolded checks that the exported model, which takes raw features, gives
// the probabilities of standardise-then-predict.
func TestFolded(t *testing.T) {
	c, test := trained(t)
	w, b := c.Folded()
	lr := c.LogReg()
	labels, probs := lr.Predict(test.Input())
	for i := range test.Len() {
		want := c.Probability(test.Row(i))
		var x [InputWidth]float64
		encode(&x, test.Row(i))
		s := b
		for j, v := range x {
			s += w[j] * v
		}
		if got := sigmoid(s); math.Abs(got-want) > 1e-12 {
			t.Fatalf("row %d: folded float64 probability %v; want %v", i, got, want)
		}
		if got := float64(probs[2*i+1]); math.Abs(got-want) > 1e-5 {
			t.Fatalf("row %d: onnx reference probability %v; want %v", i, got, want)
		}
		if math.Abs(want-0.5) > 1e-5 && (labels[i] == 1) != (want > 0.5) {
			t.Fatalf("row %d: onnx reference label %d for probability %v", i, labels[i], want)
		}
	}
	if lr.InputName != InputName || lr.Features() != InputWidth || lr.Classes() != 2 {
		t.Fatalf("LogReg() = input %q, %d features, %d classes; want %q, %d, 2", lr.InputName, lr.Features(), lr.Classes(), InputName, InputWidth)
	}
}

func TestTrainFailure(t *testing.T) {
	f := func(d *Dataset, want error) {
		t.Helper()
		if _, err := Train(d); !errors.Is(err, want) {
			t.Fatalf("Train(%d rows) error = %v; want %v", d.Len(), err, want)
		}
	}
	f(&Dataset{}, ErrEmpty)
	d := Generate(1, 50)
	for i := range d.Y {
		d.Y[i] = 0
	}
	f(d, ErrOneClass)
	for i := range d.Y {
		d.Y[i] = 1
	}
	f(d, ErrOneClass)
}

func TestSolve(t *testing.T) {
	var a [dim][dim]float64
	var want [dim]float64
	for i := range dim {
		a[i][i] = float64(i + 2)
		if i > 0 {
			a[i][i-1], a[i-1][i] = 0.5, 0.5
		}
		want[i] = float64(i) - 3
	}
	var b [dim]float64
	for i := range dim {
		for j := range dim {
			b[i] += a[i][j] * want[j]
		}
	}
	got, ok := solve(a, b)
	for i := range dim {
		if !ok || math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("solve = %v, %v; want %v", got, ok, want)
		}
	}
	a[0][0] = -1
	if _, ok := solve(a, b); ok {
		t.Fatalf("solve accepted a matrix that is not positive definite")
	}
}
