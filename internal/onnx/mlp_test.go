package onnx

import (
	"bytes"
	"math"
	"testing"
)

func TestMLPPredict(t *testing.T) {
	// Layer 1 maps x to [x, -x], ReLU keeps the positive one, layer 2 sums
	// both and adds 0.5: the output is |x| + 0.5.
	layers := []Dense{
		{Weights: []float32{1, -1}, Bias: []float32{0, 0}},
		{Weights: []float32{1, 1}, Bias: []float32{0.5}},
	}
	f := func(final Activation, x, want []float32) {
		t.Helper()
		m := &MLP{Layers: layers, Final: final}
		if got := m.Predict(x); !closeTo(got, want) {
			t.Fatalf("%v: Predict(%v) = %v; want %v", final, x, got, want)
		}
	}
	f(ActivationNone, []float32{2, -3, 0}, []float32{2.5, 3.5, 0.5})
	f(ActivationSigmoid, []float32{2, -3}, []float32{0.9241418, 0.97068775})
	f(ActivationSoftmax, []float32{2, -3}, []float32{1, 1}) // one output: softmax is 1
}

func TestMLPPredictSoftmaxRows(t *testing.T) {
	// One identity layer: softmax over [0, ln 3] is [1/4, 3/4].
	m := &MLP{Layers: []Dense{{Weights: []float32{1, 0, 0, 1}, Bias: []float32{0, 0}}}, Final: ActivationSoftmax}
	got := m.Predict([]float32{0, float32(math.Log(3)), 1, 1})
	if want := []float32{0.25, 0.75, 0.5, 0.5}; !closeTo(got, want) {
		t.Fatalf("Predict = %v; want %v", got, want)
	}
}

func TestRandomMLP(t *testing.T) {
	m := RandomMLP(1, ActivationSoftmax, 1024, 256, 2)
	if m.Features() != 1024 || m.Outputs() != 2 || len(m.Layers) != 2 || m.Layers[0].Out() != 256 || m.Layers[1].In() != 256 {
		t.Fatalf("RandomMLP(1024, 256, 2) has layers %d->%d, %d->%d", m.Layers[0].In(), m.Layers[0].Out(), m.Layers[1].In(), m.Layers[1].Out())
	}
	// He initialisation: the weights' standard deviation is sqrt(2/fan_in).
	var ss float64
	for _, w := range m.Layers[0].Weights {
		ss += float64(w) * float64(w)
	}
	std, want := math.Sqrt(ss/float64(len(m.Layers[0].Weights))), math.Sqrt(2.0/1024)
	if math.Abs(std/want-1) > 0.01 {
		t.Fatalf("first layer weight std = %g; want %g", std, want)
	}
	for _, b := range m.Layers[1].Bias {
		if b < -0.1 || b >= 0.1 {
			t.Fatalf("bias %g outside [-0.1, 0.1)", b)
		}
	}
}

func TestRandomMLPDeterministic(t *testing.T) {
	a := RandomMLP(7, ActivationSigmoid, 30, 64, 2).Model().Marshal()
	b := RandomMLP(7, ActivationSigmoid, 30, 64, 2).Model().Marshal()
	c := RandomMLP(8, ActivationSigmoid, 30, 64, 2).Model().Marshal()
	if !bytes.Equal(a, b) {
		t.Fatalf("RandomMLP(7) made different bytes on two calls")
	}
	if bytes.Equal(a, c) {
		t.Fatalf("RandomMLP(7) and RandomMLP(8) made the same bytes")
	}
}

func TestMLPModel(t *testing.T) {
	f := func(final Activation, wantOps string) {
		t.Helper()
		g := decodeModel(t, RandomMLP(1, final, 3, 4, 4, 2).Model().Marshal()).Graph
		ops := ""
		for _, n := range g.Nodes {
			ops += n.OpType + " "
		}
		if ops != wantOps {
			t.Fatalf("%v: ops = %q; want %q", final, ops, wantOps)
		}
		if last := g.Nodes[len(g.Nodes)-1]; last.Outputs[0] != "output" {
			t.Fatalf("%v: last node writes %q; want \"output\"", final, last.Outputs[0])
		}
		if len(g.Initializers) != 6 {
			t.Fatalf("%v: %d initializers; want 6", final, len(g.Initializers))
		}
	}
	f(ActivationNone, "Gemm Relu Gemm Relu Gemm ")
	f(ActivationSigmoid, "Gemm Relu Gemm Relu Gemm Sigmoid ")
	f(ActivationSoftmax, "Gemm Relu Gemm Relu Gemm Softmax ")
}

func TestActivationString(t *testing.T) {
	f := func(a Activation, want string) {
		t.Helper()
		if got := a.String(); got != want {
			t.Fatalf("Activation(%d).String() = %q; want %q", uint8(a), got, want)
		}
	}
	f(ActivationNone, "None")
	f(ActivationSigmoid, "Sigmoid")
	f(ActivationSoftmax, "Softmax")
	f(9, "Activation(9)")
}
