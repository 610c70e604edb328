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
// Memory: no tensor the engine allocates from a model's shapes passes
// Config.MaxTensorBytes (DefaultMaxTensorBytes, 256 MiB, by default). New
// refuses a model whose declared inputs or outputs would, counting dynamic
// dimensions as 1, before warm-up allocates anything; Bind and Run refuse
// a batch that would, and MaxBatchRows tells a batcher where that lies.
// All such errors wrap ErrTooLarge.
//
// External data: a model may keep its initializers in files beside it
// (onnx.save_model(..., save_as_external_data=True), as mlflow.onnx
// writes it). Config.ExternalDataDir names their directory; New then
// checks that each tensor's bytes lie within a regular file below it and
// has onnxruntime read them from there. Open uses the model's directory.
//
// Concurrency: Init must be called once before any Session is opened. A
// Session's Run is safe for concurrent use; a Binding is used by one
// goroutine at a time. Close must not overlap any Run, and every Binding
// must be closed before its Session.
//
// Usage:
//
//	if err := engine.Init(libPath); err != nil { ... }
//	s, err := engine.Open("model.onnx", engine.Config{IntraOpThreads: 1}) // loads and warms up
//	if err != nil { ... }
//	defer s.Close()
//	out := make([]engine.Tensor, len(s.Signature().Outputs))
//	err = s.Run(in, out) // in: one Tensor per input, in signature order
//
// A caller that runs the same shapes many times binds them once instead:
//
//	b, err := s.Bind([][]int64{{16, 30}}) // one shape per input
//	defer b.Close()
//	copy(b.In[0].Data, rows)
//	err = b.Run() // outputs in b.Out
package engine
