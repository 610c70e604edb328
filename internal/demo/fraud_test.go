package demo

import (
	"bytes"
	"math"
	"testing"
)

// TestBuildFraudReproducible checks, rather than assumes, that the demo
// model is a function of its seed: the same seed gives the same model
// bytes and the same data, another seed other bytes.
func TestBuildFraudReproducible(t *testing.T) {
	build := func(seed uint64) (*Fraud, []byte) {
		t.Helper()
		f, err := BuildFraud(seed)
		if err != nil {
			t.Fatal(err)
		}
		var data bytes.Buffer
		if err := WriteCSV(&data, f.Train); err != nil {
			t.Fatal(err)
		}
		return f, data.Bytes()
	}
	a, dataA := build(3)
	b, dataB := build(3)
	if !bytes.Equal(a.Model, b.Model) || !bytes.Equal(dataA, dataB) {
		t.Fatal("BuildFraud(3) twice made different model or training bytes")
	}
	if a.Accuracy != b.Accuracy || a.LogLoss != b.LogLoss {
		t.Fatalf("BuildFraud(3) twice scored %v, %v and %v, %v", a.Accuracy, a.LogLoss, b.Accuracy, b.LogLoss)
	}
	c, _ := build(4)
	if bytes.Equal(a.Model, c.Model) {
		t.Fatal("BuildFraud(3) and BuildFraud(4) made the same model bytes")
	}
	if a.Train.Len() != trainRows || a.Eval.Len() != evalRows {
		t.Fatalf("split %d/%d; want %d/%d", a.Train.Len(), a.Eval.Len(), trainRows, evalRows)
	}
	if a.LogLoss <= 0 || a.LogLoss >= math.Ln2 {
		t.Fatalf("held-out log loss %v; want it between 0 and that of a coin (%v)", a.LogLoss, math.Ln2)
	}
	p := a.Params()
	if p["seed"] != "3" || p["l2"] != "0.0001" || p["max_iter"] != "100" || p["train_rows"] != "16000" || p["algorithm"] == "" {
		t.Fatalf("Params() = %v", p)
	}
}
