package onnx

import (
	"math"
	"reflect"
	"testing"
)

// closeTo reports whether got and want have the same length and differ by at
// most 1e-6 element by element.
func closeTo(got, want []float32) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(float64(got[i])-float64(want[i])) > 1e-6 {
			return false
		}
	}
	return true
}

func TestLogRegPredictBinary(t *testing.T) {
	lr := &LogReg{Weights: []float32{1, 2}, Bias: []float32{-1}}
	f := func(x []float32, wantLabels []int64, wantProbs []float32) {
		t.Helper()
		labels, probs := lr.Predict(x)
		if !reflect.DeepEqual(labels, wantLabels) || !closeTo(probs, wantProbs) {
			t.Fatalf("Predict(%v) = %v, %v; want %v, %v", x, labels, probs, wantLabels, wantProbs)
		}
	}
	// z = x0 + 2*x1 - 1; sigmoid(1) = 0.7310586, sigmoid(-1) = 0.26894142.
	f([]float32{0, 1}, []int64{1}, []float32{0.26894142, 0.7310586})
	f([]float32{0, 0}, []int64{0}, []float32{0.7310586, 0.26894142})
	f([]float32{1, 0}, []int64{0}, []float32{0.5, 0.5}) // a tie goes to class 0, as in sklearn
	f([]float32{0, 1, 0, 0}, []int64{1, 0}, []float32{0.26894142, 0.7310586, 0.7310586, 0.26894142})
	f(nil, []int64{}, []float32{})
}

func TestLogRegPredictMulticlass(t *testing.T) {
	// One feature with zero weights: the probabilities are the softmax of
	// the biases, 1/6, 2/6 and 3/6.
	lr := &LogReg{Weights: []float32{0, 0, 0}, Bias: []float32{0, float32(math.Log(2)), float32(math.Log(3))}}
	labels, probs := lr.Predict([]float32{5})
	if want := []float32{1.0 / 6, 2.0 / 6, 3.0 / 6}; labels[0] != 2 || !closeTo(probs, want) {
		t.Fatalf("Predict = %v, %v; want [2], %v", labels, probs, want)
	}
	// Weights [F=2,K=2] = [[1,0],[0,1]]: the logits are the features.
	lr = &LogReg{Weights: []float32{1, 0, 0, 1}, Bias: []float32{0, 0}}
	labels, _ = lr.Predict([]float32{3, 1, 1, 3, 2, 2})
	if want := []int64{0, 1, 0}; !reflect.DeepEqual(labels, want) {
		t.Fatalf("labels = %v; want %v", labels, want)
	}
}

func TestLogRegModel(t *testing.T) {
	f := func(lr *LogReg, wantOps []string, wantInputs, wantOutputs []ValueInfo) {
		t.Helper()
		g := decodeModel(t, lr.Model().Marshal()).Graph
		var ops []string
		for _, n := range g.Nodes {
			ops = append(ops, n.OpType)
		}
		if !reflect.DeepEqual(ops, wantOps) {
			t.Fatalf("ops = %v; want %v", ops, wantOps)
		}
		if !reflect.DeepEqual(g.Inputs, wantInputs) || !reflect.DeepEqual(g.Outputs, wantOutputs) {
			t.Fatalf("inputs, outputs = %+v, %+v; want %+v, %+v", g.Inputs, g.Outputs, wantInputs, wantOutputs)
		}
	}
	n := DimParam("N")
	f(&LogReg{Weights: make([]float32, 8), Bias: []float32{0}},
		[]string{"Gemm", "Sigmoid", "Constant", "Sub", "Concat", "ArgMax"},
		[]ValueInfo{{Name: "input", Type: Float, Shape: []Dim{n, DimValue(8)}}},
		[]ValueInfo{
			{Name: "label", Type: Int64, Shape: []Dim{n}},
			{Name: "probabilities", Type: Float, Shape: []Dim{n, DimValue(2)}},
		})
	f(&LogReg{Weights: make([]float32, 12), Bias: make([]float32, 3), InputName: "features", LabelName: "y", ProbabilitiesName: "p"},
		[]string{"Gemm", "Softmax", "ArgMax"},
		[]ValueInfo{{Name: "features", Type: Float, Shape: []Dim{n, DimValue(4)}}},
		[]ValueInfo{
			{Name: "y", Type: Int64, Shape: []Dim{n}},
			{Name: "p", Type: Float, Shape: []Dim{n, DimValue(3)}},
		})
}
