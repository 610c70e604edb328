package bench

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// slowerModel returns base's model with a chain of width-wide identity
// layers inserted after its first layer: it computes exactly what base
// computes (the first layer's ReLU output is never negative, so copying
// it through ReLU layers whose weights form an identity changes nothing)
// but costs layers matrix products of width×width more per row. The
// chain's layers share one weight matrix, so the file stays small.
func slowerModel(base *onnx.MLP, width, layers int) *onnx.Model {
	m := base.Model()
	h := base.Layers[0].Out()
	identity := func(in, out int) []float32 {
		w := make([]float32, in*out)
		for i := range min(in, out) {
			w[i*out+i] = 1
		}
		return w
	}
	g := &m.Graph
	g.Initializers = append(g.Initializers,
		onnx.FloatTensor("slow_in", []int64{int64(h), int64(width)}, identity(h, width)),
		onnx.FloatTensor("slow_w", []int64{int64(width), int64(width)}, identity(width, width)),
		onnx.FloatTensor("slow_out", []int64{int64(width), int64(h)}, identity(width, h)),
		onnx.FloatTensor("slow_b", []int64{int64(width)}, make([]float32, width)),
		onnx.FloatTensor("slow_bh", []int64{int64(h)}, make([]float32, h)))
	layer := func(in, w, b, out string) []onnx.Node {
		return []onnx.Node{{OpType: "Gemm", Inputs: []string{in, w, b}, Outputs: []string{out + "_z"}},
			{OpType: "Relu", Inputs: []string{out + "_z"}, Outputs: []string{out}}}
	}
	chain := layer("h0", "slow_in", "slow_b", "slow0")
	prev := "slow0"
	for i := range layers {
		next := "slow" + strconv.Itoa(i+1)
		chain = append(chain, layer(prev, "slow_w", "slow_b", next)...)
		prev = next
	}
	chain = append(chain, layer(prev, "slow_out", "slow_bh", "slow_h")...)
	// The first layer is Gemm then Relu (nodes 0 and 1, writing h0); the
	// next layer reads h0, and now reads the chain's end instead.
	for i := range g.Nodes[2:] {
		for j, in := range g.Nodes[2+i].Inputs {
			if in == "h0" {
				g.Nodes[2+i].Inputs[j] = "slow_h"
			}
		}
	}
	g.Nodes = slices.Concat(g.Nodes[:2], chain, g.Nodes[2:])
	return m
}

// failingMLP returns base with one more hidden unit in its first layer:
// +Inf times the first feature. Where that feature is negative the unit's
// ReLU is 0 and the answers are base's to the bit; where it is positive
// the unit is +Inf, both logits become +Inf and softmax gives NaN, which
// the server cannot write as JSON and answers 500.
func failingMLP(base *onnx.MLP) *onnx.MLP {
	first, second := base.Layers[0], base.Layers[1]
	in, h, out := first.In(), first.Out(), second.Out()
	l0 := onnx.Dense{Weights: make([]float32, in*(h+1)), Bias: append(slices.Clone(first.Bias), 0)}
	for i := range in {
		copy(l0.Weights[i*(h+1):], first.Weights[i*h:(i+1)*h])
	}
	l0.Weights[h] = float32(math.Inf(1)) // feature 0 into the new unit
	l1 := onnx.Dense{Weights: append(slices.Clone(second.Weights), make([]float32, out)...), Bias: second.Bias}
	for j := range out {
		l1.Weights[h*out+j] = 1
	}
	m := &onnx.MLP{Final: base.Final, InputName: base.InputName, OutputName: base.OutputName}
	m.Layers = append([]onnx.Dense{l0, l1}, base.Layers[2:]...)
	return m
}

// judgmentBodies returns 50 one-row V2 requests of f features: the first
// feature is positive in the first only (2% of a round robin), negative
// in the others; the other features vary.
func judgmentBodies(f int) [][]byte {
	bodies := make([][]byte, 50)
	for i := range bodies {
		var b strings.Builder
		b.WriteString(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1,` + strconv.Itoa(f) + `],"data":[`)
		for j := range f {
			v := math.Sin(float64(i*f + j)) // deterministic, in [-1, 1]
			if j == 0 {
				v = -0.1 - math.Abs(v)
				if i == 0 {
					v = 0.5
				}
			}
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(v, 'g', 6, 64))
		}
		b.WriteString(`]}]}`)
		bodies[i] = []byte(b.String())
	}
	return bodies
}
