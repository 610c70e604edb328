package onnx

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from onnx.proto (identical in onnx-ml.proto). Only the fields
// this package writes are listed.
const (
	modelIRVersion    protowire.Number = 1
	modelProducerName protowire.Number = 2
	modelGraph        protowire.Number = 7
	modelOpsetImport  protowire.Number = 8

	opsetDomain  protowire.Number = 1
	opsetVersion protowire.Number = 2

	graphNode        protowire.Number = 1
	graphName        protowire.Number = 2
	graphInitializer protowire.Number = 5
	graphInput       protowire.Number = 11
	graphOutput      protowire.Number = 12

	nodeInput     protowire.Number = 1
	nodeOutput    protowire.Number = 2
	nodeName      protowire.Number = 3
	nodeOpType    protowire.Number = 4
	nodeAttribute protowire.Number = 5
	nodeDomain    protowire.Number = 7

	attrName    protowire.Number = 1
	attrF       protowire.Number = 2
	attrI       protowire.Number = 3
	attrS       protowire.Number = 4
	attrT       protowire.Number = 5
	attrFloats  protowire.Number = 7
	attrInts    protowire.Number = 8
	attrStrings protowire.Number = 9
	attrType    protowire.Number = 20

	tensorDims      protowire.Number = 1
	tensorDataType  protowire.Number = 2
	tensorFloatData protowire.Number = 4
	tensorInt64Data protowire.Number = 7
	tensorName      protowire.Number = 8
	tensorRawData   protowire.Number = 9
	// tensorExternalData and tensorDataLocation say where the elements of a
	// tensor stored outside the model are.
	tensorExternalData protowire.Number = 13
	tensorDataLocation protowire.Number = 14

	stringEntryKey   protowire.Number = 1
	stringEntryValue protowire.Number = 2

	valueInfoName protowire.Number = 1
	valueInfoType protowire.Number = 2

	typeTensorType protowire.Number = 1

	tensorTypeElemType protowire.Number = 1
	tensorTypeShape    protowire.Number = 2

	shapeDim protowire.Number = 1

	dimValue protowire.Number = 1
	dimParam protowire.Number = 2
)

// appendVarintField appends field num as a varint, even when v is zero: the
// ONNX schema is proto2, so an explicit zero differs from an absent field.
func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendStringField appends field num unless s is empty.
func appendStringField(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendFloatField appends field num as a fixed32 float.
func appendFloatField(b []byte, num protowire.Number, v float32) []byte {
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(v))
}

// appendMessageField appends field num holding the message that body appends.
// The body is written in place after the tag and then shifted right by the
// size of its length prefix, so nested messages need no temporary buffers.
func appendMessageField(b []byte, num protowire.Number, body func([]byte) []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	start := len(b)
	b = body(b)
	n := len(b) - start
	prefix := protowire.SizeVarint(uint64(n))
	for range prefix {
		b = append(b, 0)
	}
	copy(b[start+prefix:], b[start:start+n])
	protowire.AppendVarint(b[:start], uint64(n))
	return b
}

// appendPackedFloats appends vs as one packed repeated float field. It writes
// nothing for an empty slice.
func appendPackedFloats(b []byte, num protowire.Number, vs []float32) []byte {
	if len(vs) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(4*len(vs)))
	for _, v := range vs {
		b = protowire.AppendFixed32(b, math.Float32bits(v))
	}
	return b
}

// appendPackedInt64s appends vs as one packed repeated int64 field. It writes
// nothing for an empty slice.
func appendPackedInt64s(b []byte, num protowire.Number, vs []int64) []byte {
	if len(vs) == 0 {
		return b
	}
	n := 0
	for _, v := range vs {
		n += protowire.SizeVarint(uint64(v))
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	for _, v := range vs {
		b = protowire.AppendVarint(b, uint64(v))
	}
	return b
}
