package onnx

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

// TestMarshalGolden pins the exact bytes of a tiny model, worked out by hand
// from onnx.proto, so the field numbers are checked independently of both
// proto.go and the test decoder.
func TestMarshalGolden(t *testing.T) {
	m := &Model{Graph: Graph{
		Name:    "g",
		Nodes:   []Node{{OpType: "Identity", Inputs: []string{"x"}, Outputs: []string{"y"}}},
		Inputs:  []ValueInfo{{Name: "x", Type: Float, Shape: []Dim{DimParam("N"), DimValue(2)}}},
		Outputs: []ValueInfo{{Name: "y", Type: Float, Shape: []Dim{DimParam("N"), DimValue(2)}}},
	}}
	valueInfo := func(name string) string {
		return "0a01" + name + // name = 1
			"120f" + // type = 2: TypeProto
			"0a0d" + // tensor_type = 1: TypeProto.Tensor
			"0801" + // elem_type = 1: FLOAT
			"1209" + // shape = 2: TensorShapeProto
			"0a03" + "12014e" + // dim = 1: dim_param = 2 "N"
			"0a02" + "0802" // dim = 1: dim_value = 1 2
	}
	want := strings.Join([]string{
		"0808", // ir_version = 1: 8
		"120a" + hex.EncodeToString([]byte("switchyard")), // producer_name = 2
		"3a41",   // graph = 7, 65 bytes
		"0a10",   // node = 1, 16 bytes
		"0a0178", // input = 1 "x"
		"120179", // output = 2 "y"
		"2208" + hex.EncodeToString([]byte("Identity")), // op_type = 4
		"120167",                 // name = 2 "g"
		"5a14" + valueInfo("78"), // input = 11
		"6214" + valueInfo("79"), // output = 12
		"42021011",               // opset_import = 8: version = 2: 17
	}, "")
	if got := hex.EncodeToString(m.Marshal()); got != want {
		t.Fatalf("Marshal() =\n%s\nwant\n%s", got, want)
	}
}

// TestMarshalRoundTrip decodes what Marshal writes and compares it with the
// model, field by field, for a model that uses every feature of the writer.
func TestMarshalRoundTrip(t *testing.T) {
	m := &Model{
		IRVersion:    9,
		ProducerName: "test",
		Opsets:       []Opset{{Version: 18}, {Domain: MLDomain, Version: 3}},
		Graph: Graph{
			Name: "all",
			Nodes: []Node{
				{
					Name: "n0", OpType: "Custom", Domain: "example.org",
					Inputs: []string{"a", "", "b"}, Outputs: []string{"c"},
					Attrs: []Attr{
						FloatAttr("f0", 0),
						FloatAttr("f", -1.5),
						IntAttr("i0", 0),
						IntAttr("i", -3),
						StringAttr("s0", ""),
						StringAttr("s", "héllo"),
						TensorAttr("t", Int64Tensor("", []int64{2}, []int64{-1, 1 << 40})),
						FloatsAttr("fs", 1, 0, -2.25),
						IntsAttr("is", 0, -1, 1<<62),
						StringsAttr("ss", "a", "", "c"),
					},
				},
				{OpType: "Constant", Outputs: []string{"k"}, Attrs: []Attr{TensorAttr("value", FloatTensor("", nil, []float32{3}))}},
			},
			Initializers: []Tensor{
				FloatTensor("w", []int64{2, 2}, []float32{1, -2, 0, 4.5}),
				Int64Tensor("ids", []int64{3}, []int64{0, -7, 1 << 50}),
				RawTensor("d", Double, []int64{1}, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}),
				RawTensor("empty", Bool, []int64{0}, []byte{}),
			},
			Inputs: []ValueInfo{
				{Name: "a", Type: Bool, Shape: []Dim{DimParam("N"), DimValue(0), {Value: -1}}},
				{Name: "b", Type: String, Shape: []Dim{}},
			},
			Outputs: []ValueInfo{{Name: "c", Type: Float16}},
		},
	}
	got := decodeModel(t, m.Marshal())
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("decode(Marshal()) =\n%+v\nwant\n%+v", got, m)
	}
}

// TestMarshalDefaults checks the values written for a Model's zero fields.
func TestMarshalDefaults(t *testing.T) {
	f := func(nodes []Node, wantOpsets []Opset) {
		t.Helper()
		m := &Model{Graph: Graph{Nodes: nodes}}
		got := decodeModel(t, m.Marshal())
		if got.IRVersion != IRVersion || got.ProducerName != ProducerName {
			t.Fatalf("IRVersion, ProducerName = %d, %q; want %d, %q", got.IRVersion, got.ProducerName, IRVersion, ProducerName)
		}
		if !reflect.DeepEqual(got.Opsets, wantOpsets) {
			t.Fatalf("Opsets = %+v; want %+v", got.Opsets, wantOpsets)
		}
	}
	f(nil, []Opset{{Version: OpsetVersion}})
	f([]Node{{OpType: "Relu"}}, []Opset{{Version: OpsetVersion}})
	f([]Node{{OpType: "Relu"}, {OpType: "TreeEnsembleClassifier", Domain: MLDomain}},
		[]Opset{{Version: OpsetVersion}, {Domain: MLDomain, Version: MLOpsetVersion}})
}

// TestBuildersRoundTrip checks that every builder's model survives encoding
// unchanged, with the defaults Marshal fills in.
func TestBuildersRoundTrip(t *testing.T) {
	f := func(name string, m *Model, ml bool) {
		t.Helper()
		want := *m
		want.IRVersion, want.ProducerName = IRVersion, ProducerName
		want.Opsets = []Opset{{Version: OpsetVersion}}
		if ml {
			want.Opsets = append(want.Opsets, Opset{Domain: MLDomain, Version: MLOpsetVersion})
		}
		if got := decodeModel(t, m.Marshal()); !reflect.DeepEqual(got, &want) {
			t.Fatalf("%s: decode(Marshal()) differs from the model:\n%+v\nwant\n%+v", name, got, &want)
		}
	}
	f("binary logreg", (&LogReg{Weights: []float32{1, 2, 3}, Bias: []float32{0.5}}).Model(), false)
	f("multiclass logreg", (&LogReg{Weights: []float32{1, 2, 3, 4}, Bias: []float32{0, 1}, InputName: "x"}).Model(), false)
	f("mlp", RandomMLP(1, ActivationSoftmax, 4, 5, 3).Model(), false)
	f("forest", RandomForest(1, 4, 3, 2).Model(), true)
	f("typed", Typed{Width: 2}.Model(), false)
	f("identity", Identity(Float16, DimParam(Batch), DimValue(4)), false)
	f("affine", (&Affine{Shape: []Dim{DimValue(1), DimValue(4)}, Scale: 2, Offset: 1}).Model(), false)
}

// TestAppendMarshal checks that AppendMarshal appends to dst and that the
// result does not depend on what dst held.
func TestAppendMarshal(t *testing.T) {
	m := RandomForest(3, 5, 4, 3).Model()
	want := m.Marshal()
	prefix := []byte("prefix")
	got := m.AppendMarshal(append([]byte(nil), prefix...))
	if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("AppendMarshal(%q) did not append Marshal()'s bytes", prefix)
	}
}

func TestDataTypeString(t *testing.T) {
	f := func(dt DataType, want string) {
		t.Helper()
		if got := dt.String(); got != want {
			t.Fatalf("DataType(%d).String() = %q; want %q", int32(dt), got, want)
		}
	}
	f(Float, "FLOAT")
	f(Uint8, "UINT8")
	f(Int8, "INT8")
	f(Int32, "INT32")
	f(Int64, "INT64")
	f(String, "STRING")
	f(Bool, "BOOL")
	f(Float16, "FLOAT16")
	f(Double, "DOUBLE")
	f(16, "DataType(16)")
}
