package demo

import (
	"math"
	"slices"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestModelsMatchReference runs both demo models in onnxruntime on the
// held-out rows: each has the signature the server and the gate expect,
// and its outputs are those of its Go reference.
func TestModelsMatchReference(t *testing.T) {
	t.Parallel()
	f := func(net bool) {
		t.Helper()
		fr := built(t, net, 1)
		s, err := engine.New(fr.Model, engine.Config{})
		if err != nil {
			t.Fatalf("%s: %v", fr.Kind, err)
		}
		defer s.Close()
		sig := s.Signature()
		if len(sig.Inputs) != 1 || sig.Inputs[0].Name != InputName || sig.Inputs[0].DType != engine.FP32 ||
			!slices.Equal(sig.Inputs[0].Shape, []int64{-1, int64(InputWidth)}) {
			t.Fatalf("%s: inputs = %+v; want %s FP32 [-1 %d]", fr.Kind, sig.Inputs, InputName, InputWidth)
		}
		outs := sig.Outputs
		if len(outs) != 2 || outs[0].Name != LabelName || outs[0].DType != engine.INT64 || !slices.Equal(outs[0].Shape, []int64{-1}) ||
			outs[1].Name != ProbabilitiesName || outs[1].DType != engine.FP32 || !slices.Equal(outs[1].Shape, []int64{-1, 2}) {
			t.Fatalf("%s: outputs = %+v; want label INT64 [-1], probabilities FP32 [-1 2]", fr.Kind, outs)
		}
		x := fr.Eval.Input()
		n := int64(fr.Eval.Len())
		out := make([]engine.Tensor, 2)
		if err := s.Run([]engine.Tensor{engine.NewTensor(InputName, []int64{n, int64(InputWidth)}, x)}, out); err != nil {
			t.Fatalf("%s: Run: %v", fr.Kind, err)
		}
		gotLabels, err := engine.Values[int64](&out[0])
		if err != nil {
			t.Fatal(err)
		}
		gotProbs, err := engine.Values[float32](&out[1])
		if err != nil {
			t.Fatal(err)
		}
		labels, probs := fr.Predict(x)
		if len(gotLabels) != len(labels) || len(gotProbs) != len(probs) {
			t.Fatalf("%s: %d labels and %d probabilities; want %d and %d", fr.Kind, len(gotLabels), len(gotProbs), len(labels), len(probs))
		}
		for i := range labels {
			p0, p1 := probs[2*i], probs[2*i+1]
			if math.Abs(float64(gotProbs[2*i]-p0)) > 1e-5 || math.Abs(float64(gotProbs[2*i+1]-p1)) > 1e-5 {
				t.Fatalf("%s: row %d: probabilities %v; want %v within 1e-5", fr.Kind, i, gotProbs[2*i:2*i+2], probs[2*i:2*i+2])
			}
			// A near-tie may go either way in the last bits.
			if math.Abs(float64(p1-p0)) > 1e-5 && gotLabels[i] != labels[i] {
				t.Fatalf("%s: row %d: label %d; want %d (probabilities %v)", fr.Kind, i, gotLabels[i], labels[i], probs[2*i:2*i+2])
			}
		}
	}
	f(false)
	f(true)
}
