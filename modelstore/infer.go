package modelstore

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/engine"
)

// Request is one inference request to a Version. The caller owns it and may
// reuse it after Infer returns; its slices keep their capacity across uses.
type Request struct {
	// In holds the inputs in signature order.
	In []engine.Tensor
	// Out receives the outputs in signature order. Infer resizes it and
	// reuses the capacity of each tensor's Shape and Data.
	Out []engine.Tensor
	// Deadline, when not zero, is when the request must have started
	// running; past it Infer fails with batcher.ErrDeadline.
	Deadline time.Time

	item batcher.Item[*Request]
}

// Infer runs r through the version's batch queue: its rows may run
// together with other requests' and come back split by row. It checks the
// inputs first, so a bad request never reaches, let alone fails, a batch.
// It fails with ErrNotReady once the version is unloaded, and with
// batcher.ErrQueueFull or batcher.ErrDeadline under overload.
func (v *Version) Infer(r *Request) error {
	if err := v.session.Check(r.In); err != nil {
		return err
	}
	n := len(v.Signature.Outputs)
	if cap(r.Out) < n {
		r.Out = slices.Grow(r.Out[:0], n)
	}
	r.Out = r.Out[:n]
	it := &r.item
	it.Payload, it.Rows, it.Key, it.Deadline = r, 1, 0, r.Deadline
	if v.batchable {
		rows, key, err := batchShape(r.In)
		if err != nil {
			return err
		}
		it.Rows, it.Key = int(rows), key
	}
	err := v.queue.Do(it)
	it.Payload = nil
	if errors.Is(err, batcher.ErrClosed) {
		return fmt.Errorf("%s/%d: %w", v.Model, v.Number, ErrNotReady)
	}
	return err
}

// keySeed seeds the hash of batch keys; it is fixed for the process.
var keySeed = maphash.MakeSeed()

// batchShape returns the rows of a request (its inputs' common first
// dimension) and the key that makes it batch only with requests whose other
// dimensions are the same.
func batchShape(in []engine.Tensor) (rows int64, key uint64, err error) {
	rows = in[0].Shape[0]
	var h maphash.Hash
	h.SetSeed(keySeed)
	for i := range in {
		if in[i].Shape[0] != rows {
			return 0, 0, fmt.Errorf("%w: input %q has %d rows, input %q has %d", engine.ErrShape,
				in[0].Name, rows, in[i].Name, in[i].Shape[0])
		}
		for _, d := range in[i].Shape[1:] {
			maphash.WriteComparable(&h, d)
		}
	}
	return rows, h.Sum64(), nil
}

// batchable reports whether a signature has a batch axis: every input and
// output has a dynamic first dimension. A model without one runs request
// by request.
func batchable(sig *engine.Signature) bool {
	for _, ts := range [][]engine.TensorInfo{sig.Inputs, sig.Outputs} {
		for _, t := range ts {
			if len(t.Shape) == 0 || t.Shape[0] != -1 {
				return false
			}
		}
	}
	return true
}

// runner runs a version's batches: it implements batcher.Runner.
type runner struct {
	session *engine.Session
	// gathers pools the concatenated tensors of multi-request batches.
	gathers sync.Pool
}

// gather holds one batch's concatenated inputs and outputs.
type gather struct {
	in, out []engine.Tensor
}

// maxPooledGather caps the bytes a pooled gather keeps.
const maxPooledGather = 64 << 20

// Run runs b. A batch of one request runs on the request's own tensors; a
// larger one concatenates the rows of every input, runs once, and copies
// each request's rows of every output back into it.
func (r *runner) Run(_ context.Context, b *batcher.Batch[*Request]) error {
	if len(b.Items) == 1 {
		p := b.Items[0].Payload
		return r.session.Run(p.In, p.Out)
	}
	g, _ := r.gathers.Get().(*gather)
	if g == nil {
		sig := r.session.Signature()
		g = &gather{in: make([]engine.Tensor, len(sig.Inputs)), out: make([]engine.Tensor, len(sig.Outputs))}
	}
	defer r.putGather(g)

	first := b.Items[0].Payload
	for i := range g.in {
		t, f := &g.in[i], &first.In[i]
		t.Name, t.DType = f.Name, f.DType
		t.Shape = append(append(t.Shape[:0], int64(b.Rows)), f.Shape[1:]...)
		t.Data = t.Data[:0]
		for _, it := range b.Items {
			in := &it.Payload.In[i]
			if !slices.Equal(in.Shape[1:], f.Shape[1:]) {
				return fmt.Errorf("BUG: batch mixes shapes %v and %v of input %q", in.Shape, f.Shape, f.Name)
			}
			t.Data = append(t.Data, in.Data...)
		}
	}
	if err := r.session.Run(g.in, g.out); err != nil {
		return err
	}
	for j := range g.out {
		o := &g.out[j]
		if len(o.Shape) == 0 || o.Shape[0] != int64(b.Rows) {
			return fmt.Errorf("output %q has shape %v for a batch of %d rows: the model has no batch axis", o.Name, o.Shape, b.Rows)
		}
		rowBytes := len(o.Data) / b.Rows
		off := 0
		for _, it := range b.Items {
			dst := &it.Payload.Out[j]
			dst.Name, dst.DType = o.Name, o.DType
			dst.Shape = append(append(dst.Shape[:0], int64(it.Rows)), o.Shape[1:]...)
			n := it.Rows * rowBytes
			dst.Data = append(dst.Data[:0], o.Data[off:off+n]...)
			off += n
		}
	}
	return nil
}

func (r *runner) putGather(g *gather) {
	size := 0
	for _, ts := range [][]engine.Tensor{g.in, g.out} {
		for i := range ts {
			size += cap(ts[i].Data)
		}
	}
	if size <= maxPooledGather {
		r.gathers.Put(g)
	}
}
