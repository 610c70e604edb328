package onnx

// Typed is a model with one input per element type switchyard serves and one
// output per input, for testing type handling end to end. Every input and
// output has shape [N,Width], N being the dynamic dimension Batch:
//
//	input    type    output   computes
//	x_fp32   FLOAT   y_fp32   Add(x, x)
//	x_fp64   DOUBLE  y_fp64   Add(x, x)
//	x_int64  INT64   y_int64  Add(x, x), wrapping on overflow
//	x_int32  INT32   y_int32  Add(x, x), wrapping on overflow
//	x_int8   INT8    y_int8   Neg(x), wrapping -128 to itself
//	x_uint8  UINT8   y_uint8  Identity(x)
//	x_bool   BOOL    y_bool   Not(x)
//
// Inputs and outputs are declared in that order.
type Typed struct {
	// Width is the size of every tensor's second dimension.
	Width int
}

// TypedValues holds one flat, row-major slice per element type, named after
// the Open Inference Protocol's types, for Typed's inputs or outputs.
type TypedValues struct {
	// FP32 holds the FLOAT tensor, x_fp32 or y_fp32.
	FP32 []float32
	// FP64 holds the DOUBLE tensor, x_fp64 or y_fp64.
	FP64 []float64
	// INT64 holds the INT64 tensor, x_int64 or y_int64.
	INT64 []int64
	// INT32 holds the INT32 tensor, x_int32 or y_int32.
	INT32 []int32
	// INT8 holds the INT8 tensor, x_int8 or y_int8.
	INT8 []int8
	// UINT8 holds the UINT8 tensor, x_uint8 or y_uint8.
	UINT8 []uint8
	// BOOL holds the BOOL tensor, x_bool or y_bool.
	BOOL []bool
}

// Model returns the ONNX model.
func (t Typed) Model() *Model {
	w := DimValue(int64(t.Width))
	g := Graph{Name: "typed"}
	add := func(suffix string, dt DataType, opType string, inputs int) {
		x, y := "x_"+suffix, "y_"+suffix
		in := names(x)
		if inputs == 2 {
			in = names(x, x)
		}
		g.Inputs = append(g.Inputs, tensorInfo(x, dt, DimParam(Batch), w))
		g.Outputs = append(g.Outputs, tensorInfo(y, dt, DimParam(Batch), w))
		g.Nodes = append(g.Nodes, op(opType, in, names(y)))
	}
	add("fp32", Float, "Add", 2)
	add("fp64", Double, "Add", 2)
	add("int64", Int64, "Add", 2)
	add("int32", Int32, "Add", 2)
	add("int8", Int8, "Neg", 1)
	add("uint8", Uint8, "Identity", 1)
	add("bool", Bool, "Not", 1)
	return &Model{Graph: g}
}

// Predict is the reference implementation of Model. It returns new slices,
// one output per input, each as long as its input.
func (t Typed) Predict(in TypedValues) TypedValues {
	out := TypedValues{
		FP32:  make([]float32, len(in.FP32)),
		FP64:  make([]float64, len(in.FP64)),
		INT64: make([]int64, len(in.INT64)),
		INT32: make([]int32, len(in.INT32)),
		INT8:  make([]int8, len(in.INT8)),
		UINT8: make([]uint8, len(in.UINT8)),
		BOOL:  make([]bool, len(in.BOOL)),
	}
	for i, v := range in.FP32 {
		out.FP32[i] = v + v
	}
	for i, v := range in.FP64 {
		out.FP64[i] = v + v
	}
	for i, v := range in.INT64 {
		out.INT64[i] = v + v
	}
	for i, v := range in.INT32 {
		out.INT32[i] = v + v
	}
	for i, v := range in.INT8 {
		out.INT8[i] = -v
	}
	copy(out.UINT8, in.UINT8)
	for i, v := range in.BOOL {
		out.BOOL[i] = !v
	}
	return out
}

// Identity returns the model output = Identity(input) for one tensor of
// element type t and the given shape. With t Float16 or String it makes a
// model switchyard must refuse: onnxruntime loads it, but switchyard serves
// neither type.
func Identity(t DataType, shape ...Dim) *Model {
	return &Model{Graph: Graph{
		Name:    "identity",
		Nodes:   []Node{op("Identity", names("input"), names("output"))},
		Inputs:  []ValueInfo{tensorInfo("input", t, shape...)},
		Outputs: []ValueInfo{tensorInfo("output", t, shape...)},
	}}
}
