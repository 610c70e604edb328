package onnx

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// Activation is the function an MLP applies to its last layer's output.
type Activation uint8

// The final activations an MLP supports.
const (
	// ActivationNone leaves the last layer's output as it is.
	ActivationNone Activation = iota
	// ActivationSigmoid applies the logistic function to each output.
	ActivationSigmoid
	// ActivationSoftmax applies softmax across each row's outputs.
	ActivationSoftmax
)

// String returns the ONNX operator that implements a, or "None".
func (a Activation) String() string {
	switch a {
	case ActivationNone:
		return "None"
	case ActivationSigmoid:
		return "Sigmoid"
	case ActivationSoftmax:
		return "Softmax"
	}
	return "Activation(" + strconv.Itoa(int(a)) + ")"
}

// Dense is one fully connected layer: out = in·Weights + Bias.
type Dense struct {
	// Weights is the [in,out] matrix, row-major: Weights[i*out+j].
	Weights []float32
	// Bias holds the out biases. Its length fixes the layer's width.
	Bias []float32
}

// In returns the number of inputs of the layer.
func (d *Dense) In() int { return len(d.Weights) / len(d.Bias) }

// Out returns the number of outputs of the layer.
func (d *Dense) Out() int { return len(d.Bias) }

// MLP is a multilayer perceptron: dense layers with ReLU between them and
// Final after the last. Its input is FP32 [N,F] and its one output FP32
// [N,K], N being the dynamic dimension Batch, F the first layer's In and K
// the last layer's Out. An MLP is read-only once built; its methods are safe
// for concurrent use.
type MLP struct {
	// Layers are the dense layers in order; each layer's In must equal the
	// previous layer's Out. There must be at least one.
	Layers []Dense
	// Final is applied to the last layer's output.
	Final Activation
	// InputName names the input; empty means "input".
	InputName string
	// OutputName names the output; empty means "output".
	OutputName string
}

// RandomMLP returns an MLP with len(widths)-1 layers, widths[i] inputs to
// layer i and widths[len(widths)-1] outputs, initialised deterministically
// from seed: weights are normal with standard deviation sqrt(2/fan_in) (He
// initialisation, so activations keep their scale through deep ReLU stacks)
// and biases uniform in [-0.1, 0.1). widths 30, 64, 2 make a small model;
// 1024, 1024, 1024, 1024 a compute-heavy one for benchmarks. It panics if
// fewer than two widths are given or any is not positive.
func RandomMLP(seed uint64, final Activation, widths ...int) *MLP {
	if len(widths) < 2 {
		panic(fmt.Sprintf("BUG: onnx: RandomMLP needs at least two widths, got %v", widths))
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d6c70))
	m := &MLP{Final: final, Layers: make([]Dense, len(widths)-1)}
	for l := range m.Layers {
		in, out := widths[l], widths[l+1]
		if in <= 0 || out <= 0 {
			panic(fmt.Sprintf("BUG: onnx: RandomMLP widths must be positive, got %v", widths))
		}
		std := math.Sqrt(2 / float64(in))
		d := Dense{Weights: make([]float32, in*out), Bias: make([]float32, out)}
		for i := range d.Weights {
			d.Weights[i] = float32(rng.NormFloat64() * std)
		}
		for i := range d.Bias {
			d.Bias[i] = float32(rng.Float64()*0.2 - 0.1)
		}
		m.Layers[l] = d
	}
	return m
}

// Features returns F, the number of input features.
func (m *MLP) Features() int { return m.Layers[0].In() }

// Outputs returns K, the number of outputs per row.
func (m *MLP) Outputs() int { return m.Layers[len(m.Layers)-1].Out() }

// Model returns the ONNX model. It refers to m's slices without copying
// them.
func (m *MLP) Model() *Model {
	input := cmp.Or(m.InputName, "input")
	output := cmp.Or(m.OutputName, "output")
	g := Graph{
		Name:    "mlp",
		Inputs:  []ValueInfo{tensorInfo(input, Float, DimParam(Batch), DimValue(int64(m.Features())))},
		Outputs: []ValueInfo{tensorInfo(output, Float, DimParam(Batch), DimValue(int64(m.Outputs())))},
	}
	h := input
	for l := range m.Layers {
		d := &m.Layers[l]
		w, b := "w"+strconv.Itoa(l), "b"+strconv.Itoa(l)
		g.Initializers = append(g.Initializers,
			FloatTensor(w, []int64{int64(d.In()), int64(d.Out())}, d.Weights),
			FloatTensor(b, []int64{int64(d.Out())}, d.Bias))
		last := l == len(m.Layers)-1
		z := "z" + strconv.Itoa(l)
		if last && m.Final == ActivationNone {
			z = output
		}
		g.Nodes = append(g.Nodes, op("Gemm", names(h, w, b), names(z)))
		switch {
		case !last:
			h = "h" + strconv.Itoa(l)
			g.Nodes = append(g.Nodes, op("Relu", names(z), names(h)))
		case m.Final == ActivationSigmoid:
			g.Nodes = append(g.Nodes, op("Sigmoid", names(z), names(output)))
		case m.Final == ActivationSoftmax:
			g.Nodes = append(g.Nodes, op("Softmax", names(z), names(output), IntAttr("axis", 1)))
		}
	}
	return &Model{Graph: g}
}

// Predict is the reference implementation of Model: for x holding N rows of
// F features it returns the N×K outputs, row-major, in a new slice. Each
// layer accumulates in float64 and rounds to float32, as onnxruntime stores
// every intermediate tensor in float32. It panics if len(x) is not a multiple
// of F.
func (m *MLP) Predict(x []float32) []float32 {
	f, k := m.Features(), m.Outputs()
	n := rows(x, f)
	out := make([]float32, n*k)
	for r := range n {
		h := x[r*f : (r+1)*f]
		for l := range m.Layers {
			d := &m.Layers[l]
			z := make([]float32, d.Out())
			dense(z, h, d.Weights, d.Bias)
			if l < len(m.Layers)-1 {
				for i, v := range z {
					z[i] = max(v, 0)
				}
			}
			h = z
		}
		switch m.Final {
		case ActivationSigmoid:
			for i, v := range h {
				h[i] = sigmoid(v)
			}
		case ActivationSoftmax:
			softmax(h)
		}
		copy(out[r*k:], h)
	}
	return out
}
