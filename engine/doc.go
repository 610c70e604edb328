// Package engine runs ONNX models with onnxruntime.
//
// It owns everything that touches onnxruntime's C API: loading the shared
// library once per process (Init), opening a model into a Session,
// describing its inputs and outputs (Signature), checking tensors against
// that signature before any call into C, running the model, warming it up
// and releasing its native memory deterministically (Close).
//
// It knows nothing of HTTP, JSON, the registry or metrics. Tensors cross its
// boundary as plain Go values (Tensor: dtype, shape, bytes) so that callers
// can pool and concatenate them without knowing element types.
//
// Concurrency: Init must be called once before any Session is opened. A
// Session's Run is safe for concurrent use; Close must not overlap any Run.
//
// Usage:
//
//	if err := engine.Init(libPath); err != nil { ... }
//	s, err := engine.Open("model.onnx", engine.Config{IntraOpThreads: 1})
//	if err != nil { ... }
//	defer s.Close()
//	if _, err := s.Warm(); err != nil { ... }
//	out := make([]engine.Tensor, len(s.Signature().Outputs))
//	err = s.Run(in, out) // in: one Tensor per input, in signature order
package engine
