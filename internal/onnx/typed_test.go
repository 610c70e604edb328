package onnx

import (
	"math"
	"reflect"
	"testing"
)

func TestTypedPredict(t *testing.T) {
	in := TypedValues{
		FP32:  []float32{1.5, -2},
		FP64:  []float64{0.25, -1e300},
		INT64: []int64{3, math.MaxInt64},
		INT32: []int32{-4, math.MaxInt32},
		INT8:  []int8{5, -128},
		UINT8: []uint8{0, 255},
		BOOL:  []bool{true, false},
	}
	want := TypedValues{
		FP32:  []float32{3, -4},
		FP64:  []float64{0.5, -2e300},
		INT64: []int64{6, -2}, // wraps, as onnxruntime's Add does
		INT32: []int32{-8, -2},
		INT8:  []int8{-5, -128},
		UINT8: []uint8{0, 255},
		BOOL:  []bool{false, true},
	}
	if got := (Typed{Width: 2}).Predict(in); !reflect.DeepEqual(got, want) {
		t.Fatalf("Predict(%+v) =\n%+v\nwant\n%+v", in, got, want)
	}
}

func TestTypedModel(t *testing.T) {
	g := decodeModel(t, Typed{Width: 3}.Model().Marshal()).Graph
	wantTypes := []DataType{Float, Double, Int64, Int32, Int8, Uint8, Bool}
	wantNames := []string{"fp32", "fp64", "int64", "int32", "int8", "uint8", "bool"}
	if len(g.Inputs) != len(wantTypes) || len(g.Outputs) != len(wantTypes) {
		t.Fatalf("%d inputs and %d outputs; want %d each", len(g.Inputs), len(g.Outputs), len(wantTypes))
	}
	shape := []Dim{DimParam(Batch), DimValue(3)}
	for i, dt := range wantTypes {
		in, out := g.Inputs[i], g.Outputs[i]
		if in.Name != "x_"+wantNames[i] || out.Name != "y_"+wantNames[i] || in.Type != dt || out.Type != dt ||
			!reflect.DeepEqual(in.Shape, shape) || !reflect.DeepEqual(out.Shape, shape) {
			t.Fatalf("pair %d = %+v -> %+v; want x_%s -> y_%s, %v, [N,3]", i, in, out, wantNames[i], wantNames[i], dt)
		}
	}
}

func TestIdentity(t *testing.T) {
	f := func(dt DataType, shape ...Dim) {
		t.Helper()
		g := decodeModel(t, Identity(dt, shape...).Marshal()).Graph
		want := ValueInfo{Name: "input", Type: dt, Shape: shape}
		if len(g.Inputs) != 1 || !reflect.DeepEqual(g.Inputs[0], want) {
			t.Fatalf("Identity(%v) inputs = %+v; want %+v", dt, g.Inputs, want)
		}
		if len(g.Nodes) != 1 || g.Nodes[0].OpType != "Identity" || g.Outputs[0].Type != dt {
			t.Fatalf("Identity(%v) = %+v", dt, g)
		}
	}
	f(Float16, DimParam(Batch), DimValue(4))
	f(String, DimParam(Batch))
	f(Float, DimValue(2), DimValue(2))
}
