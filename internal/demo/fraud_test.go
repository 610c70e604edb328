package demo

import (
	"bytes"
	"math"
	"testing"
)

// TestBuildFraudReproducible checks, rather than assumes, that each demo
// model is a function of its seed: the same seed gives the same model
// bytes and the same data, another seed other bytes.
func TestBuildFraudReproducible(t *testing.T) {
	f := func(build func(uint64) (*Fraud, error), wantParams map[string]string) {
		t.Helper()
		run := func(seed uint64) (*Fraud, []byte) {
			t.Helper()
			f, err := build(seed)
			if err != nil {
				t.Fatal(err)
			}
			var data bytes.Buffer
			if err := WriteCSV(&data, f.Train); err != nil {
				t.Fatal(err)
			}
			return f, data.Bytes()
		}
		a, dataA := run(3)
		b, dataB := run(3)
		if !bytes.Equal(a.Model, b.Model) || !bytes.Equal(dataA, dataB) {
			t.Fatalf("%s: seed 3 twice made different model or training bytes", a.Kind)
		}
		if a.Accuracy != b.Accuracy || a.LogLoss != b.LogLoss || a.AUC != b.AUC {
			t.Fatalf("%s: seed 3 twice scored %v, %v, %v and %v, %v, %v", a.Kind, a.Accuracy, a.LogLoss, a.AUC, b.Accuracy, b.LogLoss, b.AUC)
		}
		c, _ := run(4)
		if bytes.Equal(a.Model, c.Model) {
			t.Fatalf("%s: seeds 3 and 4 made the same model bytes", a.Kind)
		}
		if a.Train.Len() != trainRows || a.Eval.Len() != evalRows {
			t.Fatalf("%s: split %d/%d; want %d/%d", a.Kind, a.Train.Len(), a.Eval.Len(), trainRows, evalRows)
		}
		if a.LogLoss <= 0 || a.LogLoss >= math.Ln2 || a.AUC <= 0.8 || a.AUC >= 1 || a.Accuracy <= 0.9 {
			t.Fatalf("%s: held out: log loss %v, AUC %v, accuracy %v", a.Kind, a.LogLoss, a.AUC, a.Accuracy)
		}
		if labels, probs := a.Predict(a.Sample); labels[0] != 1 || probs[1] < 0.5 {
			t.Fatalf("%s: the sample is not flagged as fraud: %v, %v", a.Kind, labels, probs)
		}
		p := a.Params()
		for k, v := range wantParams {
			if p[k] != v {
				t.Fatalf("%s: Params()[%q] = %q; want %q (all: %v)", a.Kind, k, p[k], v, p)
			}
		}
		p["seed"] = "changed"
		if a.Params()["seed"] != "3" {
			t.Fatalf("%s: Params() returned a shared map", a.Kind)
		}
	}
	f(BuildFraud, map[string]string{"algorithm": "logistic_regression_newton", "seed": "3", "l2": "0.0001", "max_iter": "100", "train_rows": "16000"})
	f(BuildFraudNet, map[string]string{"algorithm": "mlp_adam", "seed": "3", "hidden_units": "8", "epochs": "40", "batch_size": "128",
		"learning_rate": "0.01", "train_rows": "16000", "eval_rows": "4000"})
}

// TestBuildFraudSameEval checks that both models of a seed are scored on
// the same held-out rows, so that the gate compares like with like.
func TestBuildFraudSameEval(t *testing.T) {
	a, err := BuildFraud(2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuildFraudNet(2)
	if err != nil {
		t.Fatal(err)
	}
	var ea, eb bytes.Buffer
	if err := WriteCSV(&ea, a.Eval); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&eb, b.Eval); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ea.Bytes(), eb.Bytes()) {
		t.Fatal("the two models of seed 2 have different held-out rows")
	}
}
