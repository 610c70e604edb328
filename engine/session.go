package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// Config tunes a Session. The zero value is valid.
type Config struct {
	// IntraOpThreads is the number of threads one Run may use inside an
	// operator. 0 means 1: on a small machine, concurrency comes from
	// running several batches at once rather than from splitting one.
	IntraOpThreads int
	// InterOpThreads is the number of threads used to run independent
	// operators in parallel. 0 means 1 (sequential execution).
	InterOpThreads int
	// MaxTensorBytes bounds every tensor the engine allocates from a
	// model's shapes: New refuses a model whose declared input or output
	// would take more, with every dynamic dimension counted as 1 (the
	// shapes warm-up runs); Bind and Run refuse a batch whose inputs or
	// preallocated outputs would. The error wraps ErrTooLarge and names
	// the tensor. 0 means DefaultMaxTensorBytes; negative is invalid.
	MaxTensorBytes int64
	// ExternalDataDir is the directory from which New reads the
	// initializers a model stores as external data (the files its
	// TensorProtos' external_data locations name, relative to it, as
	// onnx.save_model(..., save_as_external_data=True) writes them beside
	// the model). Each must be a regular file below it holding the bytes
	// the model records. Empty means the model must hold all its
	// initializers itself.
	ExternalDataDir string
}

// Session is one model loaded into onnxruntime.
//
// Run is safe for concurrent use. Close releases the native session and
// must not be called while a Run is in progress or after it.
type Session struct {
	sess *ort.DynamicAdvancedSession
	sig  Signature
	// prealloc[j] is true when output j's shape is known from the batch
	// size alone ([N, fixed...]), so Run can hand onnxruntime a buffer to
	// write into instead of copying out of one it allocates.
	prealloc []bool
	// warmup is how long the first run took.
	warmup time.Duration
	// maxBytes is Config.MaxTensorBytes with its default applied.
	maxBytes int64
}

// Open reads the model at path and loads it with New, reading external
// data from path's directory unless cfg.ExternalDataDir says otherwise.
func Open(path string, cfg Config) (*Session, error) {
	model, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if cfg.ExternalDataDir == "" {
		cfg.ExternalDataDir = filepath.Dir(path)
	}
	return New(model, cfg)
}

// New loads a serialized ONNX model and runs it once on zeros, so that
// onnxruntime finishes its lazy initialisation before real traffic arrives
// (see WarmUp). It fails with an error wrapping ErrUnsupportedType when an
// input or output is not a tensor of one of the DTypes, and with one
// wrapping ErrTooLarge, before allocating any tensor, when a declared input
// or output would pass cfg.MaxTensorBytes. The caller must Close the
// returned Session.
func New(model []byte, cfg Config) (*Session, error) {
	if !ort.IsInitialized() {
		return nil, ErrNotInitialized
	}
	maxBytes, err := cfg.maxTensorBytes()
	if err != nil {
		return nil, err
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("engine: session options: %w", err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(max(cfg.IntraOpThreads, 1)); err != nil {
		return nil, fmt.Errorf("engine: intra-op threads: %w", err)
	}
	if err := opts.SetInterOpNumThreads(max(cfg.InterOpThreads, 1)); err != nil {
		return nil, fmt.Errorf("engine: inter-op threads: %w", err)
	}
	// Threads of onnxruntime's pools spin while waiting for work by
	// default, which steals the cores the HTTP side needs.
	for _, key := range []string{"session.intra_op.allow_spinning", "session.inter_op.allow_spinning"} {
		if err := opts.AddSessionConfigEntry(key, "0"); err != nil {
			return nil, fmt.Errorf("engine: %s: %w", key, err)
		}
	}

	described := model
	if cfg.ExternalDataDir != "" {
		// onnxruntime reads external data relative to the model's file,
		// and a model loaded from bytes has none: name the directory.
		if err := opts.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", cfg.ExternalDataDir); err != nil {
			return nil, fmt.Errorf("engine: external data directory: %w", err)
		}
		if described, err = inlineExternal(model, cfg.ExternalDataDir); err != nil {
			return nil, fmt.Errorf("engine: load model: %w", err)
		}
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(described)
	if err != nil {
		return nil, fmt.Errorf("engine: load model: %w", err)
	}
	sig := Signature{Inputs: make([]TensorInfo, len(ins)), Outputs: make([]TensorInfo, len(outs))}
	for i, info := range ins {
		if sig.Inputs[i], err = tensorInfo("input", info); err != nil {
			return nil, err
		}
	}
	for i, info := range outs {
		if sig.Outputs[i], err = tensorInfo("output", info); err != nil {
			return nil, err
		}
	}
	if err := checkDeclared(&sig, maxBytes); err != nil {
		return nil, err
	}

	inNames := make([]string, len(ins))
	for i := range ins {
		inNames[i] = ins[i].Name
	}
	outNames := make([]string, len(outs))
	for i := range outs {
		outNames[i] = outs[i].Name
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inNames, outNames, opts)
	if err != nil {
		return nil, fmt.Errorf("engine: create session: %w", err)
	}
	s := &Session{sess: sess, sig: sig, prealloc: preallocatable(&sig), maxBytes: maxBytes}
	if s.warmup, err = s.warm(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// preallocatable reports, per output, whether its shape follows from the
// batch size: every input and the output have a dynamic first dimension and
// the output's other dimensions are fixed.
func preallocatable(sig *Signature) []bool {
	p := make([]bool, len(sig.Outputs))
	for _, in := range sig.Inputs {
		if len(in.Shape) == 0 || in.Shape[0] != -1 {
			return p
		}
	}
	for j, out := range sig.Outputs {
		if len(out.Shape) == 0 || out.Shape[0] != -1 {
			continue
		}
		p[j] = true
		for _, d := range out.Shape[1:] {
			if d < 0 {
				p[j] = false
			}
		}
	}
	return p
}

func tensorInfo(kind string, info ort.InputOutputInfo) (TensorInfo, error) {
	if info.OrtValueType != ort.ONNXTypeTensor {
		return TensorInfo{}, fmt.Errorf("%w: %s %q is a %s, not a tensor", ErrUnsupportedType, kind, info.Name, info.OrtValueType)
	}
	dt, ok := fromORT(info.DataType)
	if !ok {
		return TensorInfo{}, fmt.Errorf("%w: %s %q has element type %s", ErrUnsupportedType, kind, info.Name, info.DataType)
	}
	shape := make([]int64, len(info.Dimensions))
	for i, d := range info.Dimensions {
		shape[i] = max(d, -1) // onnxruntime reports symbolic dimensions as -1
	}
	return TensorInfo{Name: info.Name, DType: dt, Shape: shape}, nil
}

// Signature describes the model's inputs and outputs. The returned value and
// its slices are shared and must not be modified.
func (s *Session) Signature() *Signature { return &s.sig }

// Run runs the model once.
//
// in must hold one tensor per signature input, in signature order, each of
// the declared DType, with the declared rank, equal fixed dimensions and
// exactly as many bytes as its shape needs; otherwise Run returns an error
// wrapping ErrDType or ErrShape without calling into onnxruntime, and when
// a preallocated output would pass MaxTensorBytes, one wrapping ErrTooLarge
// before allocating it. out must have one element per signature output;
// Run sets each one's Name, DType and Shape and fills Data, reusing the
// capacity of out[j].Data and out[j].Shape. Run keeps no reference to in
// or out after it returns.
func (s *Session) Run(in, out []Tensor) error {
	if err := s.Check(in); err != nil {
		return err
	}
	if len(out) != len(s.sig.Outputs) {
		return fmt.Errorf("engine: run: %d output slots for %d outputs", len(out), len(s.sig.Outputs))
	}
	for j := range out {
		o := &out[j]
		o.Shape, o.Data = o.Shape[:0], o.Data[:0]
		if s.prealloc[j] {
			o.Shape = append(append(o.Shape, in[0].Shape[0]), s.sig.Outputs[j].Shape[1:]...)
			info := &s.sig.Outputs[j]
			if err := checkSize("output", info.Name, o.Shape, info.DType, s.maxBytes); err != nil {
				return err
			}
			o.Data = grow(o.Data, int(Elements(o.Shape))*info.DType.Size())
		}
	}
	b, err := s.wrap(in, out)
	if err != nil {
		return err
	}
	defer b.Close()
	return b.Run()
}

// Check reports whether in would be accepted by Run: one tensor per input,
// in signature order, of the declared DType, rank and fixed dimensions, with
// exactly the bytes its shape needs. The error wraps ErrDType or ErrShape
// and names the input. It does not call into onnxruntime.
func (s *Session) Check(in []Tensor) error {
	if len(in) != len(s.sig.Inputs) {
		return fmt.Errorf("%w: %d inputs given, model has %d", ErrShape, len(in), len(s.sig.Inputs))
	}
	for i := range in {
		t, want := &in[i], &s.sig.Inputs[i]
		if t.DType != want.DType {
			return fmt.Errorf("%w: input %q is %s, model expects %s", ErrDType, want.Name, t.DType, want.DType)
		}
		if !ShapeFits(t.Shape, want.Shape) {
			return fmt.Errorf("%w: input %q has shape %v, model expects %v", ErrShape, want.Name, t.Shape, want.Shape)
		}
		if n := tensorBytes(t.Shape, t.DType); n == 0 || int64(len(t.Data)) != n {
			return fmt.Errorf("%w: input %q of shape %v needs %s, has %d", ErrShape, want.Name, t.Shape, bytesText(n), len(t.Data))
		}
	}
	return nil
}

// ShapeFits reports whether a concrete shape matches a model shape: the same
// rank, and equal dimensions wherever the model's is fixed (not -1).
func ShapeFits(shape, model []int64) bool {
	if len(shape) != len(model) {
		return false
	}
	for i, d := range model {
		if d >= 0 && shape[i] != d {
			return false
		}
	}
	return true
}

// copyOut copies an output that onnxruntime allocated into o.
func copyOut(o *Tensor, v ort.Value) error {
	var data []byte
	switch t := v.(type) {
	case *ort.Tensor[float32]:
		data = bytesOf(t.GetData())
	case *ort.Tensor[float64]:
		data = bytesOf(t.GetData())
	case *ort.Tensor[int64]:
		data = bytesOf(t.GetData())
	case *ort.Tensor[int32]:
		data = bytesOf(t.GetData())
	case *ort.Tensor[int8]:
		data = bytesOf(t.GetData())
	case *ort.Tensor[uint8]:
		data = bytesOf(t.GetData())
	case *ort.Tensor[bool]:
		data = bytesOf(t.GetData())
	default:
		return fmt.Errorf("%w: output %q came back as %T", ErrUnsupportedType, o.Name, v)
	}
	o.Shape = append(o.Shape[:0], v.GetShape()...)
	o.Data = append(o.Data[:0], data...)
	return nil
}

// grow returns b resliced to n bytes, reallocating only when its capacity
// is too small. The contents are unspecified.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// WarmUp reports how long the warm-up run in New took.
func (s *Session) WarmUp() time.Duration { return s.warmup }

// warm runs the model once on zeros, giving dynamic dimensions size 1, and
// settles which outputs can be preallocated. New has checked that these
// shapes fit MaxTensorBytes.
func (s *Session) warm() (time.Duration, error) {
	in := make([]Tensor, len(s.sig.Inputs))
	for i, info := range s.sig.Inputs {
		shape := warmShape(info.Shape)
		in[i] = Tensor{Name: info.Name, DType: info.DType, Shape: shape,
			Data: make([]byte, Elements(shape)*int64(info.DType.Size()))}
	}
	out := make([]Tensor, len(s.sig.Outputs))
	start := time.Now()
	err := s.Run(in, out)
	if err != nil && anyTrue(s.prealloc) {
		// The model's outputs are not [N, fixed...] after all: let
		// onnxruntime size them from now on.
		clear(s.prealloc)
		err = s.Run(in, out)
	}
	if err != nil {
		return 0, fmt.Errorf("engine: warm-up: %w", err)
	}
	return time.Since(start), nil
}

func anyTrue(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}

// Close releases the native session. The Session must not be used again.
func (s *Session) Close() error {
	if s.sess == nil {
		return nil
	}
	err := s.sess.Destroy()
	s.sess = nil
	if err != nil {
		return fmt.Errorf("engine: close: %w", err)
	}
	return nil
}

var dtypeORT = [...]ort.TensorElementDataType{
	FP32:  ort.TensorElementDataTypeFloat,
	FP64:  ort.TensorElementDataTypeDouble,
	INT64: ort.TensorElementDataTypeInt64,
	INT32: ort.TensorElementDataTypeInt32,
	INT8:  ort.TensorElementDataTypeInt8,
	UINT8: ort.TensorElementDataTypeUint8,
	BOOL:  ort.TensorElementDataTypeBool,
}

func toORT(d DType) ort.TensorElementDataType { return dtypeORT[d] }

func fromORT(t ort.TensorElementDataType) (DType, bool) {
	for d := FP32; d <= BOOL; d++ {
		if dtypeORT[d] == t {
			return d, true
		}
	}
	return DTypeInvalid, false
}
