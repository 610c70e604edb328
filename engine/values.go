package engine

import (
	"fmt"
	"unsafe"
)

// Element is the set of Go types that hold tensor elements.
type Element interface {
	float32 | float64 | int64 | int32 | int8 | uint8 | bool
}

// DTypeOf returns the DType whose elements are Go values of type T.
func DTypeOf[T Element]() DType {
	var v T
	switch any(v).(type) {
	case float32:
		return FP32
	case float64:
		return FP64
	case int64:
		return INT64
	case int32:
		return INT32
	case int8:
		return INT8
	case uint8:
		return UINT8
	default:
		return BOOL
	}
}

// NewTensor returns a tensor of the given shape holding a copy of values.
// It is meant for tests, tools and benchmarks; the serving path fills Data
// directly. It panics if len(values) does not match the shape.
func NewTensor[T Element](name string, shape []int64, values []T) Tensor {
	if Elements(shape) != int64(len(values)) {
		panic(fmt.Sprintf("BUG: engine.NewTensor: shape %v holds %d values, got %d", shape, Elements(shape), len(values)))
	}
	return Tensor{
		Name:  name,
		DType: DTypeOf[T](),
		Shape: append([]int64(nil), shape...),
		Data:  append([]byte(nil), bytesOf(values)...),
	}
}

// Values returns a copy of t's elements as Go values of type T. It fails if
// T does not match t's DType or Data is not a whole number of elements.
func Values[T Element](t *Tensor) ([]T, error) {
	if want := DTypeOf[T](); t.DType != want {
		return nil, fmt.Errorf("engine: tensor %q is %s, not %s", t.Name, t.DType, want)
	}
	size := t.DType.Size()
	if len(t.Data)%size != 0 {
		return nil, fmt.Errorf("engine: tensor %q has %d bytes, not a multiple of %d", t.Name, len(t.Data), size)
	}
	out := make([]T, len(t.Data)/size)
	copy(bytesOf(out), t.Data)
	return out, nil
}

// bytesOf views a slice of fixed-size elements as its bytes. The result
// aliases s.
func bytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(zero)))
}
