package onnx

import (
	"math"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file decodes ModelProto bytes back into a Model, for tests only. It
// spells out the field numbers of onnx.proto afresh instead of using the
// constants in proto.go, so a wrong constant there cannot hide behind a
// matching mistake here.

// wireField is one decoded protobuf field.
type wireField struct {
	num protowire.Number
	typ protowire.Type
	v   uint64 // varint, fixed32 and fixed64 values
	b   []byte // length-delimited values
}

// parseFields splits one message into its fields.
func parseFields(t *testing.T, b []byte) []wireField {
	t.Helper()
	var fs []wireField
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		f := wireField{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			t.Fatalf("field %d: unexpected wire type %d", num, typ)
		}
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		fs = append(fs, f)
	}
	return fs
}

// want checks a field's wire type, which the schema fixes.
func (f wireField) want(t *testing.T, typ protowire.Type) wireField {
	t.Helper()
	if f.typ != typ {
		t.Fatalf("field %d has wire type %d; want %d", f.num, f.typ, typ)
	}
	return f
}

// decodeModel decodes a ModelProto, failing t on any field this package does
// not write.
func decodeModel(t *testing.T, b []byte) *Model {
	t.Helper()
	m := &Model{}
	for _, f := range parseFields(t, b) {
		switch f.num {
		case 1: // ir_version
			m.IRVersion = int64(f.want(t, protowire.VarintType).v)
		case 2: // producer_name
			m.ProducerName = string(f.want(t, protowire.BytesType).b)
		case 7: // graph
			m.Graph = decodeGraph(t, f.want(t, protowire.BytesType).b)
		case 8: // opset_import
			var o Opset
			for _, g := range parseFields(t, f.want(t, protowire.BytesType).b) {
				switch g.num {
				case 1: // domain
					o.Domain = string(g.want(t, protowire.BytesType).b)
				case 2: // version
					o.Version = int64(g.want(t, protowire.VarintType).v)
				default:
					t.Fatalf("OperatorSetIdProto: unexpected field %d", g.num)
				}
			}
			m.Opsets = append(m.Opsets, o)
		default:
			t.Fatalf("ModelProto: unexpected field %d", f.num)
		}
	}
	return m
}

func decodeGraph(t *testing.T, b []byte) Graph {
	t.Helper()
	var g Graph
	for _, f := range parseFields(t, b) {
		f.want(t, protowire.BytesType)
		switch f.num {
		case 1: // node
			g.Nodes = append(g.Nodes, decodeNode(t, f.b))
		case 2: // name
			g.Name = string(f.b)
		case 5: // initializer
			g.Initializers = append(g.Initializers, decodeTensor(t, f.b))
		case 11: // input
			g.Inputs = append(g.Inputs, decodeValueInfo(t, f.b))
		case 12: // output
			g.Outputs = append(g.Outputs, decodeValueInfo(t, f.b))
		default:
			t.Fatalf("GraphProto: unexpected field %d", f.num)
		}
	}
	return g
}

func decodeNode(t *testing.T, b []byte) Node {
	t.Helper()
	var n Node
	for _, f := range parseFields(t, b) {
		f.want(t, protowire.BytesType)
		switch f.num {
		case 1: // input
			n.Inputs = append(n.Inputs, string(f.b))
		case 2: // output
			n.Outputs = append(n.Outputs, string(f.b))
		case 3: // name
			n.Name = string(f.b)
		case 4: // op_type
			n.OpType = string(f.b)
		case 5: // attribute
			n.Attrs = append(n.Attrs, decodeAttr(t, f.b))
		case 7: // domain
			n.Domain = string(f.b)
		default:
			t.Fatalf("NodeProto: unexpected field %d", f.num)
		}
	}
	return n
}

func decodeAttr(t *testing.T, b []byte) Attr {
	t.Helper()
	var a Attr
	values := 0 // how many value fields are present
	for _, f := range parseFields(t, b) {
		switch f.num {
		case 1: // name
			a.name = string(f.want(t, protowire.BytesType).b)
		case 2: // f
			a.f = math.Float32frombits(uint32(f.want(t, protowire.Fixed32Type).v))
			values++
		case 3: // i
			a.i = int64(f.want(t, protowire.VarintType).v)
			values++
		case 4: // s
			a.s = string(f.want(t, protowire.BytesType).b)
			values++
		case 5: // t
			tensor := decodeTensor(t, f.want(t, protowire.BytesType).b)
			a.t = &tensor
			values++
		case 7: // floats, unpacked as proto2 declares it
			a.floats = append(a.floats, math.Float32frombits(uint32(f.want(t, protowire.Fixed32Type).v)))
		case 8: // ints, unpacked
			a.ints = append(a.ints, int64(f.want(t, protowire.VarintType).v))
		case 9: // strings
			a.strings = append(a.strings, string(f.want(t, protowire.BytesType).b))
		case 20: // type
			a.kind = attrKind(f.want(t, protowire.VarintType).v)
		default:
			t.Fatalf("AttributeProto: unexpected field %d", f.num)
		}
	}
	switch a.kind {
	case attrKindFloat, attrKindInt, attrKindString, attrKindTensor:
		if values != 1 { // proto2: a zero value must still be present
			t.Fatalf("attribute %q of type %d holds %d values; want 1", a.name, a.kind, values)
		}
	default:
		if values != 0 {
			t.Fatalf("list attribute %q holds %d singular values", a.name, values)
		}
	}
	return a
}

func decodeTensor(t *testing.T, b []byte) Tensor {
	t.Helper()
	var x Tensor
	for _, f := range parseFields(t, b) {
		switch f.num {
		case 1: // dims, unpacked as proto2 declares it
			x.Dims = append(x.Dims, int64(f.want(t, protowire.VarintType).v))
		case 2: // data_type
			x.Type = DataType(f.want(t, protowire.VarintType).v)
		case 4: // float_data, packed
			p := f.want(t, protowire.BytesType).b
			for len(p) > 0 {
				v, n := protowire.ConsumeFixed32(p)
				if n < 0 {
					t.Fatalf("float_data: %v", protowire.ParseError(n))
				}
				x.Floats = append(x.Floats, math.Float32frombits(v))
				p = p[n:]
			}
		case 7: // int64_data, packed
			p := f.want(t, protowire.BytesType).b
			for len(p) > 0 {
				v, n := protowire.ConsumeVarint(p)
				if n < 0 {
					t.Fatalf("int64_data: %v", protowire.ParseError(n))
				}
				x.Int64s = append(x.Int64s, int64(v))
				p = p[n:]
			}
		case 8: // name
			x.Name = string(f.want(t, protowire.BytesType).b)
		case 9: // raw_data
			x.Raw = f.want(t, protowire.BytesType).b
		case 13: // external_data, StringStringEntryProto
			if x.External == nil {
				x.External = &ExternalData{}
			}
			var key, value string
			for _, g := range parseFields(t, f.want(t, protowire.BytesType).b) {
				switch g.num {
				case 1:
					key = string(g.want(t, protowire.BytesType).b)
				case 2:
					value = string(g.want(t, protowire.BytesType).b)
				default:
					t.Fatalf("StringStringEntryProto: unexpected field %d", g.num)
				}
			}
			switch key {
			case "location":
				x.External.Location = value
			case "offset":
				x.External.Offset, _ = strconv.ParseInt(value, 10, 64)
			case "length":
				x.External.Length, _ = strconv.ParseInt(value, 10, 64)
			default:
				t.Fatalf("external_data: unexpected key %q", key)
			}
		case 14: // data_location
			if v := f.want(t, protowire.VarintType).v; v != 1 {
				t.Fatalf("data_location = %d; want 1 (EXTERNAL)", v)
			}
		default:
			t.Fatalf("TensorProto: unexpected field %d", f.num)
		}
	}
	return x
}

func decodeValueInfo(t *testing.T, b []byte) ValueInfo {
	t.Helper()
	var v ValueInfo
	for _, f := range parseFields(t, b) {
		f.want(t, protowire.BytesType)
		switch f.num {
		case 1: // name
			v.Name = string(f.b)
		case 2: // type: TypeProto
			for _, tp := range parseFields(t, f.b) {
				if tp.num != 1 { // tensor_type
					t.Fatalf("TypeProto: unexpected field %d", tp.num)
				}
				for _, tt := range parseFields(t, tp.want(t, protowire.BytesType).b) {
					switch tt.num {
					case 1: // elem_type
						v.Type = DataType(tt.want(t, protowire.VarintType).v)
					case 2: // shape: TensorShapeProto
						v.Shape = []Dim{}
						for _, d := range parseFields(t, tt.want(t, protowire.BytesType).b) {
							if d.num != 1 { // dim
								t.Fatalf("TensorShapeProto: unexpected field %d", d.num)
							}
							v.Shape = append(v.Shape, decodeDim(t, d.want(t, protowire.BytesType).b))
						}
					default:
						t.Fatalf("TypeProto.Tensor: unexpected field %d", tt.num)
					}
				}
			}
		default:
			t.Fatalf("ValueInfoProto: unexpected field %d", f.num)
		}
	}
	return v
}

func decodeDim(t *testing.T, b []byte) Dim {
	t.Helper()
	d := Dim{Value: -1} // neither field: an anonymous dynamic dimension
	for _, f := range parseFields(t, b) {
		switch f.num {
		case 1: // dim_value
			d.Value = int64(f.want(t, protowire.VarintType).v)
		case 2: // dim_param
			d = Dim{Param: string(f.want(t, protowire.BytesType).b)}
		default:
			t.Fatalf("Dimension: unexpected field %d", f.num)
		}
	}
	return d
}
