package onnx

import (
	"fmt"
	"math"
)

// Batch is the name the builders of this package give the dynamic first
// (batch) dimension of their inputs and outputs.
const Batch = "N"

// op returns a default-domain node.
func op(opType string, inputs, outputs []string, attrs ...Attr) Node {
	return Node{OpType: opType, Inputs: inputs, Outputs: outputs, Attrs: attrs}
}

// names is a shorthand for a list of tensor names.
func names(s ...string) []string { return s }

// dense computes one row of x·W + b in float64 and rounds the result to
// float32, as a float32 Gemm stores it. w is [len(x), len(b)] row-major; the
// result goes to out, which must have len(b) elements.
func dense(out, x, w, b []float32) {
	k := len(b)
	for j := range out {
		s := float64(b[j])
		for i, xi := range x {
			s += float64(xi) * float64(w[i*k+j])
		}
		out[j] = float32(s)
	}
}

// sigmoid returns 1/(1+e^-z) rounded to float32.
func sigmoid(z float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(z))))
}

// softmax replaces v with its softmax, computed in float64.
func softmax(v []float32) {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, float64(x))
	}
	var sum float64
	for _, x := range v {
		sum += math.Exp(float64(x) - m)
	}
	for i, x := range v {
		v[i] = float32(math.Exp(float64(x)-m) / sum)
	}
}

// argmax returns the index of the largest element of v, the first one on a
// tie, as ONNX ArgMax does by default.
func argmax(v []float32) int64 {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return int64(best)
}

// rows returns how many rows of width f the flat slice x holds, panicking
// when it is not a whole number: a reference function fed a ragged batch is
// a bug in the caller.
func rows(x []float32, f int) int {
	if f <= 0 || len(x)%f != 0 {
		panic(fmt.Sprintf("BUG: onnx: %d input values are not a whole number of rows of %d", len(x), f))
	}
	return len(x) / f
}
