package engine

// Tensor is a dense tensor in host memory, laid out row-major with elements
// in the machine's native byte order (little-endian on every platform
// onnxruntime ships for). BOOL elements are one byte, 0 or 1.
//
// A Tensor does not own its memory in any special way: Data is an ordinary
// Go slice. Whoever fills a Tensor says how long Data stays valid; see Run.
type Tensor struct {
	// Name is the model input or output the tensor belongs to.
	Name string
	// DType is the element type.
	DType DType
	// Shape lists the dimensions; every entry is >= 0.
	Shape []int64
	// Data holds exactly Elements(Shape)*DType.Size() bytes.
	Data []byte
}

// Elements returns the number of elements a tensor of the given shape holds:
// the product of its dimensions (1 for a scalar, 0 if any dimension is 0 or
// negative).
func Elements(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		if d <= 0 {
			return 0
		}
		n *= d
	}
	return n
}

// TensorInfo describes one input or output of a model.
type TensorInfo struct {
	// Name is the graph's name for the tensor.
	Name string
	// DType is its element type.
	DType DType
	// Shape lists the dimensions; -1 marks a dynamic dimension.
	Shape []int64
}

// Signature lists a model's inputs and outputs in graph order.
type Signature struct {
	Inputs  []TensorInfo
	Outputs []TensorInfo
}

// InputIndex returns the position of the input called name, or -1.
func (s *Signature) InputIndex(name string) int {
	for i := range s.Inputs {
		if s.Inputs[i].Name == name {
			return i
		}
	}
	return -1
}

// OutputIndex returns the position of the output called name, or -1.
func (s *Signature) OutputIndex(name string) int {
	for i := range s.Outputs {
		if s.Outputs[i].Name == name {
			return i
		}
	}
	return -1
}
