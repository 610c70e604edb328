package gate

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"github.com/switchyard-ml/switchyard/engine"
)

// Layout is where the gate finds a model's features and predictions in
// its signature: one FP32 input of shape [rows, Width], and the first
// float output of shape [rows, k >= 2] (class probabilities, Classes = k)
// or [rows] / [rows, 1] (a regressor's value, Classes = 0).
type Layout struct {
	// Input and Output index the signature's inputs and outputs.
	Input, Output int
	// Width is the features per row; Classes as in Subject.
	Width, Classes int
	// Batch is the rows of every run of a model whose input has a fixed
	// first dimension, or 0 when that dimension is dynamic.
	// SessionPredictor runs such a model Batch rows at a time, padding the
	// last run with rows of zeros whose outputs it drops.
	Batch int
}

// values returns the number of output values per row.
func (l Layout) values() int { return max(1, l.Classes) }

// LayoutOf finds the layout of a model from its signature, or returns an
// error whose text says why the gate cannot evaluate the model: it has
// other than one input, its input is not FP32 of shape [rows, features]
// with a known number of features, or it has no float output of class
// probabilities or values. The output's first dimension must be the
// input's, dynamic or fixed alike.
func LayoutOf(sig *engine.Signature) (Layout, error) {
	if len(sig.Inputs) != 1 {
		return Layout{}, fmt.Errorf("gate: the model has %d inputs; the gate feeds one, of FP32 features", len(sig.Inputs))
	}
	in := &sig.Inputs[0]
	if in.DType != engine.FP32 {
		return Layout{}, fmt.Errorf("gate: the model's input %q is %s; the gate feeds FP32 features", in.Name, in.DType)
	}
	if len(in.Shape) != 2 || in.Shape[0] == 0 || in.Shape[1] <= 0 {
		return Layout{}, fmt.Errorf("gate: the model's input %q has shape %v; "+
			"the gate feeds [rows, features] with a known number of features", in.Name, in.Shape)
	}
	l := Layout{Width: int(in.Shape[1]), Batch: int(max(in.Shape[0], 0))}
	for j, o := range sig.Outputs {
		if o.DType != engine.FP32 && o.DType != engine.FP64 || len(o.Shape) == 0 || len(o.Shape) > 2 || o.Shape[0] != in.Shape[0] {
			continue
		}
		switch {
		case len(o.Shape) == 1 || o.Shape[1] == 1:
			l.Output, l.Classes = j, 0
		case o.Shape[1] >= 2:
			l.Output, l.Classes = j, int(o.Shape[1])
		default: // an unknown or empty second dimension
			continue
		}
		return l, nil
	}
	return Layout{}, fmt.Errorf("gate: the model has no float output of class probabilities or values: "+
		"no FP32 or FP64 output of shape [rows, classes], [rows] or [rows, 1] among its %d outputs", len(sig.Outputs))
}

// Decode converts the output tensor of rows rows, FP32 or FP64 in
// little-endian order, into dst, which must hold exactly rows*max(1,
// Classes) values. It fails, leaving dst unspecified, when the tensor's
// type, first dimension or size disagree. It does not retain out or dst
// and is safe for concurrent use.
func (l Layout) Decode(out *engine.Tensor, rows int, dst []float64) error {
	n := rows * l.values()
	if len(dst) != n {
		return fmt.Errorf("gate: decode %d rows of %d values into %d", rows, l.values(), len(dst))
	}
	if len(out.Shape) == 0 || out.Shape[0] != int64(rows) || engine.Elements(out.Shape) != int64(n) {
		return fmt.Errorf("gate: output %q has shape %v, not %d rows of %d values", out.Name, out.Shape, rows, l.values())
	}
	size := out.DType.Size()
	if out.DType != engine.FP32 && out.DType != engine.FP64 {
		return fmt.Errorf("gate: output %q is %s, not FP32 or FP64", out.Name, out.DType)
	}
	if len(out.Data) != n*size {
		return fmt.Errorf("gate: output %q of shape %v holds %d bytes, not %d", out.Name, out.Shape, len(out.Data), n*size)
	}
	if out.DType == engine.FP32 {
		for i := range dst {
			dst[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(out.Data[4*i:])))
		}
		return nil
	}
	for i := range dst {
		dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(out.Data[8*i:]))
	}
	return nil
}

// Runner runs a model once, as engine.Session.Run does: in holds its
// inputs, and out, one tensor per output, receives its outputs, reusing
// their buffers.
type Runner func(ctx context.Context, in, out []engine.Tensor) error

// NewPredictor returns the Predictor of a model of signature sig and
// layout l (see LayoutOf) that run runs: it encodes the features as the
// FP32 input, runs the model Layout.Batch rows at a time when that is
// fixed, and decodes the predictions. It is safe for concurrent use when
// run is; each call borrows its tensors from a pool.
func NewPredictor(run Runner, sig *engine.Signature, l Layout) Predictor {
	return &predictor{run: run, l: l, input: sig.Inputs[l.Input].Name, outputs: len(sig.Outputs)}
}

// SessionPredictor runs an onnxruntime session directly, for switchyard
// eval, which evaluates model files outside any server. l must be the
// layout of s. s must stay open while the Predictor is in use.
func SessionPredictor(s *engine.Session, l Layout) Predictor {
	run := func(_ context.Context, in, out []engine.Tensor) error { return s.Run(in, out) }
	return NewPredictor(run, s.Signature(), l)
}

// predictor is the Predictor NewPredictor returns.
type predictor struct {
	run     Runner
	l       Layout
	input   string    // the input's name
	outputs int       // the model's outputs
	pool    sync.Pool // of *runBuffers
}

// runBuffers are the tensors of one Predict call, pooled: each is used by
// one call at a time and reused by later ones.
type runBuffers struct {
	in  []engine.Tensor // the features, one tensor
	out []engine.Tensor // one per model output, filled by Session.Run
	dst []float64       // a padded run's decoded outputs
}

// Predict implements Predictor. It checks ctx before every run of the
// model, but cannot interrupt one.
func (sp *predictor) Predict(ctx context.Context, features []float32, rows int, out []float64) error {
	w, k := sp.l.Width, sp.l.values()
	if rows <= 0 || len(features) != rows*w || len(out) != rows*k {
		return fmt.Errorf("gate: predict %d rows: %d features and %d outputs given, want %d and %d",
			rows, len(features), len(out), rows*w, rows*k)
	}
	step := rows
	if sp.l.Batch > 0 {
		step = sp.l.Batch
	}
	b, _ := sp.pool.Get().(*runBuffers)
	if b == nil {
		b = &runBuffers{
			in:  []engine.Tensor{{Name: sp.input, DType: engine.FP32}},
			out: make([]engine.Tensor, sp.outputs),
		}
	}
	defer sp.pool.Put(b)
	for start := 0; start < rows; start += step {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(step, rows-start)
		t := &b.in[0]
		t.Shape = append(t.Shape[:0], int64(step), int64(w))
		t.Data = grow(t.Data, step*w*4)
		for i, v := range features[start*w : (start+n)*w] {
			binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(v))
		}
		clear(t.Data[n*w*4:]) // the padding rows of a fixed batch
		if err := sp.run(ctx, b.in, b.out); err != nil {
			return fmt.Errorf("gate: run: %w", err)
		}
		dst := out[start*k : (start+n)*k]
		if n < step {
			b.dst = grow(b.dst, step*k)
			dst = b.dst
		}
		if err := sp.l.Decode(&b.out[sp.l.Output], step, dst); err != nil {
			return err
		}
		if n < step {
			copy(out[start*k:(start+n)*k], dst)
		}
	}
	return nil
}

// grow returns s resliced to n elements, reallocating only when its
// capacity is too small. The contents are unspecified.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
