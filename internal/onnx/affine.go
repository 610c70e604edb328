package onnx

import "cmp"

// Affine is the elementwise model output = input*Scale + Offset over one
// FP32 tensor of a declared shape. With a fully fixed Shape such as [1,4] it
// is a model without a batch axis. An Affine is read-only once built; its
// methods are safe for concurrent use.
type Affine struct {
	// Shape is the shape of both the input and the output.
	Shape []Dim
	// Scale multiplies every element.
	Scale float32
	// Offset is added after scaling.
	Offset float32
	// InputName names the input; empty means "input".
	InputName string
	// OutputName names the output; empty means "output".
	OutputName string
}

// Model returns the ONNX model: Mul by a scalar, then Add a scalar.
func (a *Affine) Model() *Model {
	input := cmp.Or(a.InputName, "input")
	output := cmp.Or(a.OutputName, "output")
	return &Model{Graph: Graph{
		Name: "affine",
		Nodes: []Node{
			op("Mul", names(input, "scale"), names("scaled")),
			op("Add", names("scaled", "offset"), names(output)),
		},
		Initializers: []Tensor{
			FloatTensor("scale", nil, []float32{a.Scale}),
			FloatTensor("offset", nil, []float32{a.Offset}),
		},
		Inputs:  []ValueInfo{tensorInfo(input, Float, a.Shape...)},
		Outputs: []ValueInfo{tensorInfo(output, Float, a.Shape...)},
	}}
}

// Predict is the reference implementation of Model, rounding to float32
// after the product and after the sum as onnxruntime does. It returns a new
// slice as long as x.
func (a *Affine) Predict(x []float32) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v*a.Scale) + a.Offset // the conversion rounds, so no FMA
	}
	return y
}
