package onnx

import "google.golang.org/protobuf/encoding/protowire"

// attrKind is AttributeProto.AttributeType from onnx.proto.
type attrKind uint8

// The attribute kinds this package writes, numbered as in onnx.proto.
const (
	attrKindFloat   attrKind = 1
	attrKindInt     attrKind = 2
	attrKindString  attrKind = 3
	attrKindTensor  attrKind = 4
	attrKindFloats  attrKind = 6
	attrKindInts    attrKind = 7
	attrKindStrings attrKind = 8
)

// Attr is a named operator attribute holding one value of one kind. Build it
// with FloatAttr, IntAttr, StringAttr, TensorAttr, FloatsAttr, IntsAttr or
// StringsAttr; the zero Attr is not valid. An Attr keeps the slices it was
// given without copying them.
type Attr struct {
	name    string
	kind    attrKind
	f       float32
	i       int64
	s       string
	t       *Tensor
	floats  []float32
	ints    []int64
	strings []string
}

// FloatAttr returns a FLOAT attribute.
func FloatAttr(name string, v float32) Attr {
	return Attr{name: name, kind: attrKindFloat, f: v}
}

// IntAttr returns an INT attribute.
func IntAttr(name string, v int64) Attr {
	return Attr{name: name, kind: attrKindInt, i: v}
}

// StringAttr returns a STRING attribute.
func StringAttr(name, v string) Attr {
	return Attr{name: name, kind: attrKindString, s: v}
}

// TensorAttr returns a TENSOR attribute, such as the value of a Constant
// node.
func TensorAttr(name string, t Tensor) Attr {
	return Attr{name: name, kind: attrKindTensor, t: &t}
}

// FloatsAttr returns a FLOATS attribute.
func FloatsAttr(name string, vs ...float32) Attr {
	return Attr{name: name, kind: attrKindFloats, floats: vs}
}

// IntsAttr returns an INTS attribute.
func IntsAttr(name string, vs ...int64) Attr {
	return Attr{name: name, kind: attrKindInts, ints: vs}
}

// StringsAttr returns a STRINGS attribute.
func StringsAttr(name string, vs ...string) Attr {
	return Attr{name: name, kind: attrKindStrings, strings: vs}
}

// appendAttr appends the fields of an AttributeProto. The repeated fields
// floats, ints and strings are proto2 fields without [packed = true], so
// each element is its own field, as the reference protobuf writers do.
func appendAttr(b []byte, a *Attr) []byte {
	b = appendStringField(b, attrName, a.name)
	switch a.kind {
	case attrKindFloat:
		b = appendFloatField(b, attrF, a.f)
	case attrKindInt:
		b = appendVarintField(b, attrI, uint64(a.i))
	case attrKindString:
		b = protowire.AppendTag(b, attrS, protowire.BytesType)
		b = protowire.AppendString(b, a.s)
	case attrKindTensor:
		b = appendMessageField(b, attrT, func(b []byte) []byte { return appendTensor(b, a.t) })
	case attrKindFloats:
		for _, v := range a.floats {
			b = appendFloatField(b, attrFloats, v)
		}
	case attrKindInts:
		for _, v := range a.ints {
			b = appendVarintField(b, attrInts, uint64(v))
		}
	case attrKindStrings:
		for _, v := range a.strings {
			b = protowire.AppendTag(b, attrStrings, protowire.BytesType)
			b = protowire.AppendString(b, v)
		}
	}
	return appendVarintField(b, attrType, uint64(a.kind))
}
