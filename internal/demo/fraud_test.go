package demo

import (
	"bytes"
	"sync"
	"testing"
)

// TestBuildFraudReproducible checks, rather than assumes, that each demo
// model is a function of its seed: the same seed gives the same model
// bytes and the same data, another seed other bytes.
func TestBuildFraudReproducible(t *testing.T) {
	t.Parallel()
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
		if a.LogLoss <= 0 || a.LogLoss >= 0.25 || a.AUC <= 0.83 || a.AUC >= 0.95 || a.Accuracy <= 0.9 {
			t.Fatalf("%s: held out: log loss %v, AUC %v, accuracy %v", a.Kind, a.LogLoss, a.AUC, a.Accuracy)
		}
		if labels, probs := a.Predict(Encode(a.Eval.Row(a.Sample))); a.Eval.Y[a.Sample] != 1 || labels[0] != 1 || probs[1] < 0.5 {
			t.Fatalf("%s: the sample (label %d) is not flagged as fraud: %v, %v", a.Kind, a.Eval.Y[a.Sample], labels, probs)
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
	f(BuildFraudNet, map[string]string{"algorithm": "mlp_adam", "seed": "3", "hidden_units": "16", "epochs": "40", "batch_size": "128",
		"learning_rate": "0.01", "train_rows": "16000", "eval_rows": "4000", "features": "9", "input_width": "18"})
}

// TestBuildFraudSameEval checks that both models of a seed are scored on
// the same held-out rows, so that the gate compares like with like.
func TestBuildFraudSameEval(t *testing.T) {
	t.Parallel()
	a, b := built(t, false, 2), built(t, true, 2)
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

// builds holds the demo models the tests only read, each trained once per
// test binary: by whether it is the network, and seed.
var builds struct {
	mu sync.Mutex
	m  map[buildKey]*builtModel
}

type buildKey struct {
	net  bool
	seed uint64
}

type builtModel struct {
	once sync.Once
	f    *Fraud
	err  error
}

// built returns BuildFraudNet(seed) if net, else BuildFraud(seed),
// trained once per test binary. Callers must not modify it.
func built(t *testing.T, net bool, seed uint64) *Fraud {
	t.Helper()
	builds.mu.Lock()
	if builds.m == nil {
		builds.m = map[buildKey]*builtModel{}
	}
	b := builds.m[buildKey{net, seed}]
	if b == nil {
		b = &builtModel{}
		builds.m[buildKey{net, seed}] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() {
		if net {
			b.f, b.err = BuildFraudNet(seed)
		} else {
			b.f, b.err = BuildFraud(seed)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.f
}
