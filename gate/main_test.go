package gate_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// open loads m into onnxruntime, closed when the test ends.
func open(t *testing.T, m *onnx.Model) *engine.Session {
	t.Helper()
	s, err := engine.New(m.Marshal(), engine.Config{})
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// subject loads m and returns it as a gate subject called name, run by a
// SessionPredictor.
func subject(t *testing.T, name string, m *onnx.Model) gate.Subject {
	t.Helper()
	s := open(t, m)
	l, err := gate.LayoutOf(s.Signature())
	if err != nil {
		t.Fatalf("LayoutOf(%s): %v", name, err)
	}
	return gate.Subject{Name: name, Classes: l.Classes, Width: l.Width, Predictor: gate.SessionPredictor(s, l)}
}

// logReg returns a binary logistic regression over two features.
func logReg(w1, w2, bias float32) *onnx.Model {
	return (&onnx.LogReg{Weights: []float32{w1, w2}, Bias: []float32{bias}}).Model()
}

// The binary models the tests judge, against the rule of binaryCSV: good
// knows it, worse half knows it, and constant gives (0.5, 0.5) whatever
// the input.
func good() *onnx.Model     { return logReg(2, 1, 0) }
func worse() *onnx.Model    { return logReg(2, -1, 0) }
func constant() *onnx.Model { return logReg(0, 0, 0) }

// slicePart is one country of an evaluation set: its rows, and whether
// its labels are noise the models cannot learn.
type slicePart struct {
	country string
	rows    int
	noise   bool
}

// binaryCSV returns an eval.csv of columns x1, x2, country and y, in
// parts: rows of standard normal features labelled 1 when x1 + x2/2 plus a
// little noise is positive, or at random for a noisy part. The same seed
// gives the same set.
func binaryCSV(seed uint64, parts ...slicePart) string {
	r := rand.New(rand.NewPCG(seed, 2))
	var b strings.Builder
	b.WriteString("x1,x2,country,y\n")
	for _, p := range parts {
		for range p.rows {
			x1, x2 := r.NormFloat64(), r.NormFloat64()
			y := 0
			if x1+x2/2+0.3*r.NormFloat64() > 0 {
				y = 1
			}
			if p.noise {
				y = r.IntN(2)
			}
			fmt.Fprintf(&b, "%.4f,%.4f,%s,%d\n", x1, x2, p.country, y)
		}
	}
	return b.String()
}

// binarySet reads binaryCSV(seed, parts...) as two features, sliced by
// country when slice is true.
func binarySet(t *testing.T, seed uint64, slice bool, parts ...slicePart) *gate.EvalSet {
	t.Helper()
	cfg := gate.EvalConfig{Label: "y", Classes: 2, Width: 2,
		Columns: []gate.Column{{Name: "x1", Position: 0}, {Name: "x2", Position: 1}}}
	if slice {
		cfg.SliceBy = "country"
	}
	return readSet(t, binaryCSV(seed, parts...), cfg)
}

// readSet reads an eval set from text.
func readSet(t *testing.T, csv string, cfg gate.EvalConfig) *gate.EvalSet {
	t.Helper()
	set, err := gate.ReadEvalSet(strings.NewReader(csv), cfg)
	if err != nil {
		t.Fatalf("ReadEvalSet: %v", err)
	}
	return set
}

// ptr returns a pointer to v, for thresholds.
func ptr[T any](v T) *T { return &v }
