package engine

// DType is the element type of a tensor. The names are those of the Open
// Inference Protocol ("FP32", "INT64", ...). The zero value is invalid.
type DType uint8

// The element types switchyard can pass to and from onnxruntime.
const (
	DTypeInvalid DType = iota
	FP32
	FP64
	INT64
	INT32
	INT8
	UINT8
	BOOL
)

var dtypeNames = [...]string{
	DTypeInvalid: "INVALID",
	FP32:         "FP32",
	FP64:         "FP64",
	INT64:        "INT64",
	INT32:        "INT32",
	INT8:         "INT8",
	UINT8:        "UINT8",
	BOOL:         "BOOL",
}

var dtypeSizes = [...]int{FP32: 4, FP64: 8, INT64: 8, INT32: 4, INT8: 1, UINT8: 1, BOOL: 1}

// String returns the protocol name of d, such as "FP32".
func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return "INVALID"
}

// Size returns the number of bytes of one element of type d, or 0 when d is
// invalid.
func (d DType) Size() int {
	if int(d) < len(dtypeSizes) {
		return dtypeSizes[d]
	}
	return 0
}

// ParseDType returns the DType named s (a protocol name such as "FP32"), or
// DTypeInvalid and false when s names no supported type.
func ParseDType(s string) (DType, bool) {
	for d := FP32; d <= BOOL; d++ {
		if dtypeNames[d] == s {
			return d, true
		}
	}
	return DTypeInvalid, false
}
