package engine

import "errors"

var (
	// ErrShape is wrapped by Run when an input's rank, dimensions or data
	// length disagree with the model's signature.
	ErrShape = errors.New("engine: shape mismatch")
	// ErrDType is wrapped by Run when an input's element type is not the
	// one the model declares.
	ErrDType = errors.New("engine: wrong datatype")
	// ErrUnsupportedType is wrapped by Open when a model has an input or
	// output that is not a tensor of a supported element type.
	ErrUnsupportedType = errors.New("engine: unsupported type")
	// ErrLibraryNotFound is wrapped by LocateLibrary when no onnxruntime
	// shared library can be found.
	ErrLibraryNotFound = errors.New("engine: onnxruntime library not found")
	// ErrTooLarge is wrapped by New and Open when a model declares an
	// input or output larger than Config.MaxTensorBytes, and by Bind and
	// Run when a batch would need one; the error names the tensor, its
	// shape, its size and the limit.
	ErrTooLarge = errors.New("engine: tensor too large")
	// ErrNotInitialized is returned by Open when Init has not succeeded.
	ErrNotInitialized = errors.New("engine: onnxruntime not initialized")
)
