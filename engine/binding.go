package engine

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// Binding is a set of input and output tensors of fixed shapes whose
// onnxruntime values are created once and reused by every Run, so that a
// caller running the same shapes again and again (a batcher's batches)
// pays neither for creating values nor for allocating buffers per run.
//
// A Binding is not safe for concurrent use; several Bindings of one
// Session may run at once. It must be closed before its Session.
type Binding struct {
	// In holds one tensor per input, in signature order, with the shapes
	// given to Bind. Callers copy input bytes into In[i].Data and must not
	// reslice or replace it: onnxruntime reads that very memory.
	In []Tensor
	// Out holds one tensor per output after Run, valid until the next Run.
	Out []Tensor

	s       *Session
	inVals  []ort.Value
	outVals []ort.Value
	// runVals is the output slice handed to onnxruntime, which fills in
	// the outputs it allocates itself.
	runVals []ort.Value
}

// Bind returns a Binding for inputs of the given shapes, one per input in
// signature order. The shapes must fit the signature (see Check); the
// error wraps ErrShape otherwise. It fails with an error wrapping
// ErrTooLarge, before allocating, when an input or a preallocated output
// would pass MaxTensorBytes (see MaxBatchRows).
func (s *Session) Bind(shapes [][]int64) (*Binding, error) {
	if len(shapes) != len(s.sig.Inputs) {
		return nil, fmt.Errorf("%w: %d shapes for %d inputs", ErrShape, len(shapes), len(s.sig.Inputs))
	}
	in := make([]Tensor, len(shapes))
	for i, info := range s.sig.Inputs {
		shape := append([]int64(nil), shapes[i]...)
		if !ShapeFits(shape, info.Shape) {
			return nil, fmt.Errorf("%w: input %q has shape %v, model expects %v", ErrShape, info.Name, shape, info.Shape)
		}
		if err := checkSize("input", info.Name, shape, info.DType, s.maxBytes); err != nil {
			return nil, err
		}
		in[i] = Tensor{Name: info.Name, DType: info.DType, Shape: shape}
	}
	out := make([]Tensor, len(s.sig.Outputs))
	for j, info := range s.sig.Outputs {
		if s.prealloc[j] {
			out[j].Shape = append([]int64{shapes[0][0]}, info.Shape[1:]...)
			if err := checkSize("output", info.Name, out[j].Shape, info.DType, s.maxBytes); err != nil {
				return nil, err
			}
		}
	}
	// Allocate only once every size is known to be within the limit.
	for i := range in {
		in[i].Data = make([]byte, Elements(in[i].Shape)*int64(in[i].DType.Size()))
	}
	if err := s.Check(in); err != nil {
		return nil, err
	}
	for j := range out {
		if s.prealloc[j] {
			out[j].Data = make([]byte, Elements(out[j].Shape)*int64(s.sig.Outputs[j].DType.Size()))
		}
	}
	return s.wrap(in, out)
}

// wrap makes a Binding over tensors the caller provides: in, checked
// against the signature, and out, whose preallocated outputs already have
// their shape and buffer. It names the outputs and creates the values.
func (s *Session) wrap(in, out []Tensor) (*Binding, error) {
	vals := make([]ort.Value, len(in)+2*len(out))
	b := &Binding{
		s:       s,
		In:      in,
		Out:     out,
		inVals:  vals[:len(in):len(in)],
		outVals: vals[len(in) : len(in)+len(out) : len(in)+len(out)],
		runVals: vals[len(in)+len(out):],
	}
	for i := range in {
		v, err := newValue(&in[i])
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("engine: input %q: %w", in[i].Name, err)
		}
		b.inVals[i] = v
	}
	for j, info := range s.sig.Outputs {
		o := &out[j]
		o.Name, o.DType = info.Name, info.DType
		if !s.prealloc[j] {
			continue
		}
		v, err := newValue(o)
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("engine: output %q: %w", o.Name, err)
		}
		b.outVals[j] = v
	}
	return b, nil
}

// newValue creates an onnxruntime value over t's memory.
func newValue(t *Tensor) (ort.Value, error) {
	return ort.NewCustomDataTensor(ort.Shape(t.Shape), t.Data, toORT(t.DType))
}

// Run runs the model on b.In and leaves the outputs in b.Out.
func (b *Binding) Run() error {
	copy(b.runVals, b.outVals)
	err := b.s.sess.Run(b.inVals, b.runVals)
	for j, v := range b.runVals {
		if b.outVals[j] == nil && v != nil {
			// onnxruntime sized this output itself: copy it out.
			if err == nil {
				err = copyOut(&b.Out[j], v)
			}
			v.Destroy()
		}
		b.runVals[j] = nil
	}
	if err != nil {
		return fmt.Errorf("engine: run: %w", err)
	}
	return nil
}

// Close releases the Binding's onnxruntime values. It must not be used
// again.
func (b *Binding) Close() {
	for _, vs := range [][]ort.Value{b.inVals, b.outVals} {
		for i, v := range vs {
			if v != nil {
				v.Destroy()
				vs[i] = nil
			}
		}
	}
}
