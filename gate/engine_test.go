package gate_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
)

func TestLayoutOfSuccess(t *testing.T) {
	f := func(m *onnx.Model, want gate.Layout) {
		t.Helper()
		got, err := gate.LayoutOf(open(t, m).Signature())
		if err != nil || got != want {
			t.Fatalf("LayoutOf = %+v, %v; want %+v", got, err, want)
		}
	}
	// A binary classifier: the label output comes first and is skipped.
	f(good(), gate.Layout{Output: 1, Width: 2, Classes: 2})
	f((&onnx.LogReg{Weights: make([]float32, 12), Bias: make([]float32, 3)}).Model(), gate.Layout{Output: 1, Width: 4, Classes: 3})
	// A regressor, [rows, 1].
	f(onnx.RandomMLP(1, onnx.ActivationNone, 5, 1).Model(), gate.Layout{Width: 5})
	// A fixed batch of 2 rows of 3 values.
	f((&onnx.Affine{Shape: []onnx.Dim{onnx.DimValue(2), onnx.DimValue(3)}, Scale: 1}).Model(), gate.Layout{Width: 3, Classes: 3, Batch: 2})

	// Signatures onnxruntime reports for models it would also run.
	g := func(sig engine.Signature, want gate.Layout) {
		t.Helper()
		if got, err := gate.LayoutOf(&sig); err != nil || got != want {
			t.Fatalf("LayoutOf(%+v) = %+v, %v; want %+v", sig, got, err, want)
		}
	}
	in := []engine.TensorInfo{{Name: "x", DType: engine.FP32, Shape: []int64{-1, 4}}}
	g(engine.Signature{Inputs: in, Outputs: []engine.TensorInfo{{DType: engine.FP64, Shape: []int64{-1}}}}, gate.Layout{Width: 4})
	g(engine.Signature{Inputs: in, Outputs: []engine.TensorInfo{
		{DType: engine.FP32, Shape: []int64{-1, -1}}, // unknown classes
		{DType: engine.FP32, Shape: []int64{1, 2}},   // not per row
		{DType: engine.FP32, Shape: []int64{-1, 2, 2}},
		{DType: engine.FP64, Shape: []int64{-1, 5}},
	}}, gate.Layout{Output: 3, Width: 4, Classes: 5})
}

func TestLayoutOfFailure(t *testing.T) {
	f := func(sig engine.Signature, want string) {
		t.Helper()
		got, err := gate.LayoutOf(&sig)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("LayoutOf(%+v) = %+v, %v; want an error containing %q", sig, got, err, want)
		}
	}
	x := engine.TensorInfo{Name: "x", DType: engine.FP32, Shape: []int64{-1, 4}}
	probs := []engine.TensorInfo{{DType: engine.FP32, Shape: []int64{-1, 2}}}
	f(engine.Signature{Inputs: []engine.TensorInfo{x, x}, Outputs: probs}, "the model has 2 inputs")
	f(engine.Signature{Outputs: probs}, "the model has 0 inputs")
	f(engine.Signature{Inputs: []engine.TensorInfo{{Name: "x", DType: engine.INT64, Shape: []int64{-1, 4}}}, Outputs: probs},
		`input "x" is INT64; the gate feeds FP32 features`)
	for _, shape := range [][]int64{{-1, -1}, {-1}, {-1, 2, 2}, {0, 4}} {
		f(engine.Signature{Inputs: []engine.TensorInfo{{Name: "x", DType: engine.FP32, Shape: shape}}, Outputs: probs},
			"a known number of features")
	}
	f(engine.Signature{Inputs: []engine.TensorInfo{x}, Outputs: []engine.TensorInfo{{DType: engine.INT64, Shape: []int64{-1}}}},
		"has no float output of class probabilities or values")
}

func TestDecode(t *testing.T) {
	f32 := engine.NewTensor("p", []int64{2, 2}, []float32{0.25, 0.75, 1, 0})
	f64 := engine.NewTensor("y", []int64{3}, []float64{1.5, -2, math.Pi})
	classifier, regressor := gate.Layout{Classes: 2}, gate.Layout{}

	dst := make([]float64, 4)
	if err := classifier.Decode(&f32, 2, dst); err != nil || dst[0] != 0.25 || dst[1] != 0.75 || dst[2] != 1 || dst[3] != 0 {
		t.Fatalf("Decode(FP32) = %v, %v; want [0.25 0.75 1 0]", dst, err)
	}
	dst = make([]float64, 3)
	if err := regressor.Decode(&f64, 3, dst); err != nil || dst[0] != 1.5 || dst[1] != -2 || dst[2] != math.Pi {
		t.Fatalf("Decode(FP64) = %v, %v; want [1.5 -2 π]", dst, err)
	}

	fail := func(l gate.Layout, out engine.Tensor, rows, n int, want string) {
		t.Helper()
		if err := l.Decode(&out, rows, make([]float64, n)); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Decode(%v, %d rows, %d values) = %v; want an error containing %q", out.Shape, rows, n, err, want)
		}
	}
	fail(classifier, f32, 2, 3, "decode 2 rows of 2 values into 3")
	fail(classifier, f32, 1, 2, "not 1 rows of 2 values")
	fail(regressor, f32, 4, 4, "not 4 rows of 1 values")
	fail(regressor, engine.NewTensor("l", []int64{2}, []int64{1, 0}), 2, 2, "INT64, not FP32 or FP64")
	short := f32
	short.Data = short.Data[:12]
	fail(classifier, short, 2, 4, "holds 12 bytes, not 16")
}

func TestSessionPredictor(t *testing.T) {
	f := func(m *onnx.Model, reference func([]float32) []float32, rows int) {
		t.Helper()
		s := subject(t, "m", m)
		x := testenv.Rows(uint64(rows), rows*s.Width)
		want := reference(x)
		// Concurrent calls share the predictor's pool of tensors.
		var wg sync.WaitGroup
		errs := make([]error, 4)
		outs := make([][]float64, 4)
		for i := range 4 {
			outs[i] = make([]float64, len(want))
			wg.Go(func() { errs[i] = s.Predictor.Predict(context.Background(), x, rows, outs[i]) })
		}
		wg.Wait()
		for i := range 4 {
			if errs[i] != nil {
				t.Fatalf("Predict: %v", errs[i])
			}
			for j, w := range want {
				if math.Abs(outs[i][j]-float64(w)) > 1e-5 {
					t.Fatalf("Predict()[%d] = %v; reference %v", j, outs[i][j], w)
				}
			}
		}
	}
	mlp := onnx.RandomMLP(3, onnx.ActivationSoftmax, 6, 8, 3)
	f(mlp.Model(), mlp.Predict, 7)
	// A fixed batch of 2: 5 rows run as 3 batches, the last padded.
	affine := &onnx.Affine{Shape: []onnx.Dim{onnx.DimValue(2), onnx.DimValue(3)}, Scale: 2, Offset: 1}
	f(affine.Model(), affine.Predict, 5)
	f(affine.Model(), affine.Predict, 1)
}

func TestSessionPredictorFailure(t *testing.T) {
	s := subject(t, "m", good())
	x := make([]float32, 8)
	if err := s.Predictor.Predict(context.Background(), x, 4, make([]float64, 7)); err == nil ||
		!strings.Contains(err.Error(), "8 features and 7 outputs given, want 8 and 8") {
		t.Fatalf("Predict(7 outputs for 4 rows) = %v; want a length error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Predictor.Predict(ctx, x, 4, make([]float64, 8)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Predict(ended context) = %v; want context.Canceled", err)
	}
}
