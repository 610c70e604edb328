package onnx

import "strconv"

// DataType is an ONNX tensor element type. Its values are those of
// TensorProto.DataType in onnx.proto, so they can be compared with what
// onnxruntime reports.
type DataType int32

// The element types this package names. The numbers are fixed by onnx.proto.
const (
	Float   DataType = 1  // FLOAT: float32
	Uint8   DataType = 2  // UINT8
	Int8    DataType = 3  // INT8
	Int32   DataType = 6  // INT32
	Int64   DataType = 7  // INT64
	String  DataType = 8  // STRING: UTF-8 byte strings
	Bool    DataType = 9  // BOOL: one byte per element, 0 or 1
	Float16 DataType = 10 // FLOAT16: IEEE 754 half precision
	Double  DataType = 11 // DOUBLE: float64
)

// String returns the onnx.proto name of t, such as "FLOAT", or the number for
// a type this package does not name.
func (t DataType) String() string {
	switch t {
	case Float:
		return "FLOAT"
	case Uint8:
		return "UINT8"
	case Int8:
		return "INT8"
	case Int32:
		return "INT32"
	case Int64:
		return "INT64"
	case String:
		return "STRING"
	case Bool:
		return "BOOL"
	case Float16:
		return "FLOAT16"
	case Double:
		return "DOUBLE"
	}
	return "DataType(" + strconv.Itoa(int(t)) + ")"
}

// Dim is one dimension of a declared tensor shape: a fixed size, a named
// dynamic dimension, or an anonymous dynamic one. onnxruntime reports both
// kinds of dynamic dimension as -1.
type Dim struct {
	// Param names a dynamic dimension, such as "N". Dimensions with the same
	// name must have the same size at run time. When Param is set, Value is
	// ignored.
	Param string
	// Value is the fixed size when Param is empty. A negative Value with an
	// empty Param declares an anonymous dynamic dimension.
	Value int64
}

// DimValue returns a fixed dimension of size n (n >= 0).
func DimValue(n int64) Dim { return Dim{Value: n} }

// DimParam returns a dynamic dimension called name, such as "N" for a batch
// axis.
func DimParam(name string) Dim { return Dim{Param: name} }

// ValueInfo declares a graph input or output: its name, element type and
// shape.
type ValueInfo struct {
	// Name is the tensor's name in the graph.
	Name string
	// Type is the element type.
	Type DataType
	// Shape lists the dimensions. A nil Shape declares no shape at all
	// (unknown rank); a non-nil empty Shape declares a scalar.
	Shape []Dim
}

// appendValueInfo appends the fields of a ValueInfoProto.
func appendValueInfo(b []byte, v *ValueInfo) []byte {
	b = appendStringField(b, valueInfoName, v.Name)
	return appendMessageField(b, valueInfoType, func(b []byte) []byte {
		return appendMessageField(b, typeTensorType, func(b []byte) []byte {
			b = appendVarintField(b, tensorTypeElemType, uint64(v.Type))
			if v.Shape == nil {
				return b
			}
			return appendMessageField(b, tensorTypeShape, func(b []byte) []byte {
				for _, d := range v.Shape {
					b = appendMessageField(b, shapeDim, func(b []byte) []byte {
						return appendDim(b, d)
					})
				}
				return b
			})
		})
	})
}

// appendDim appends the fields of a TensorShapeProto.Dimension. An anonymous
// dynamic dimension is an empty message.
func appendDim(b []byte, d Dim) []byte {
	switch {
	case d.Param != "":
		return appendStringField(b, dimParam, d.Param)
	case d.Value >= 0:
		return appendVarintField(b, dimValue, uint64(d.Value))
	}
	return b
}

// tensorInfo is a shorthand for the declarations the builders write.
func tensorInfo(name string, t DataType, shape ...Dim) ValueInfo {
	return ValueInfo{Name: name, Type: t, Shape: shape}
}
