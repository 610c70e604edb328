package onnx

import (
	"reflect"
	"testing"
)

func TestAffinePredict(t *testing.T) {
	a := &Affine{Shape: []Dim{DimValue(1), DimValue(4)}, Scale: 2.5, Offset: -1}
	got := a.Predict([]float32{0, 1, -2, 0.4})
	if want := []float32{-1, 1.5, -6, 0}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Predict = %v; want %v", got, want)
	}
}

func TestAffineModel(t *testing.T) {
	f := func(a *Affine, wantIn, wantOut ValueInfo) {
		t.Helper()
		g := decodeModel(t, a.Model().Marshal()).Graph
		if len(g.Inputs) != 1 || len(g.Outputs) != 1 || !reflect.DeepEqual(g.Inputs[0], wantIn) || !reflect.DeepEqual(g.Outputs[0], wantOut) {
			t.Fatalf("inputs, outputs = %+v, %+v; want %+v, %+v", g.Inputs, g.Outputs, wantIn, wantOut)
		}
		want := []Tensor{FloatTensor("scale", nil, []float32{a.Scale}), FloatTensor("offset", nil, []float32{a.Offset})}
		if !reflect.DeepEqual(g.Initializers, want) {
			t.Fatalf("initializers = %+v; want %+v", g.Initializers, want)
		}
	}
	fixed := []Dim{DimValue(1), DimValue(4)}
	f(&Affine{Shape: fixed, Scale: 2, Offset: 1},
		ValueInfo{Name: "input", Type: Float, Shape: fixed},
		ValueInfo{Name: "output", Type: Float, Shape: fixed})
	batched := []Dim{DimParam(Batch), DimValue(3)}
	f(&Affine{Shape: batched, Scale: -1, InputName: "x", OutputName: "y"},
		ValueInfo{Name: "x", Type: Float, Shape: batched},
		ValueInfo{Name: "y", Type: Float, Shape: batched})
}
