package onnx

import "google.golang.org/protobuf/encoding/protowire"

// Tensor is a constant tensor: a graph initializer or the value of a TENSOR
// attribute. Exactly one of Floats, Int64s and Raw holds the elements, in
// row-major order; the constructors below set the right one. A Tensor only
// refers to its slices: the caller must not modify them while a Model that
// holds the Tensor is being marshalled.
type Tensor struct {
	// Name is the tensor's name in the graph. Initializers must be named;
	// attribute values need not be.
	Name string
	// Type is the element type.
	Type DataType
	// Dims is the shape; nil or empty means a scalar.
	Dims []int64
	// Floats holds the elements of a Float tensor (float_data).
	Floats []float32
	// Int64s holds the elements of an Int64 tensor (int64_data).
	Int64s []int64
	// Raw holds the elements of a tensor of any other fixed-size type
	// (raw_data): little-endian, IEEE 754 for floating point, one byte per
	// BOOL.
	Raw []byte
	// External, when not nil, says that the elements are stored outside
	// the model, in a file beside it; Floats, Int64s and Raw are then not
	// written (see Externalize).
	External *ExternalData
}

// FloatTensor returns a Float tensor of shape dims holding data, which it
// keeps without copying.
func FloatTensor(name string, dims []int64, data []float32) Tensor {
	return Tensor{Name: name, Type: Float, Dims: dims, Floats: data}
}

// Int64Tensor returns an Int64 tensor of shape dims holding data, which it
// keeps without copying.
func Int64Tensor(name string, dims []int64, data []int64) Tensor {
	return Tensor{Name: name, Type: Int64, Dims: dims, Int64s: data}
}

// RawTensor returns a tensor of element type t and shape dims whose elements
// are the little-endian bytes raw, which it keeps without copying. t must
// not be String.
func RawTensor(name string, t DataType, dims []int64, raw []byte) Tensor {
	return Tensor{Name: name, Type: t, Dims: dims, Raw: raw}
}

// appendTensor appends the fields of a TensorProto. dims is a proto2
// repeated field without [packed = true], so each dimension is its own field.
func appendTensor(b []byte, t *Tensor) []byte {
	if t.External != nil {
		// The elements live in the external file.
		x := *t
		x.Floats, x.Int64s, x.Raw = nil, nil, nil
		t = &x
	}
	for _, d := range t.Dims {
		b = appendVarintField(b, tensorDims, uint64(d))
	}
	b = appendVarintField(b, tensorDataType, uint64(t.Type))
	b = appendPackedFloats(b, tensorFloatData, t.Floats)
	b = appendPackedInt64s(b, tensorInt64Data, t.Int64s)
	b = appendStringField(b, tensorName, t.Name)
	if t.Raw != nil {
		b = protowire.AppendTag(b, tensorRawData, protowire.BytesType)
		b = protowire.AppendBytes(b, t.Raw)
	}
	if t.External != nil {
		b = appendExternalData(b, t.External)
	}
	return b
}
