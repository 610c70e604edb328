package modelstore

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
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
	// SkipCache makes Infer run the request without reading or filling
	// the model's response cache, as shadow copies do: they must not take
	// the room of what clients ask.
	SkipCache bool
	// Cached is set by Infer when the answer came from the model's
	// response cache: nothing ran.
	Cached bool

	item batcher.Item[*Request]
}

// Infer runs r through the version's batch queue: its rows may run
// together with other requests' and come back split by row. It checks the
// inputs first, so a bad request never reaches, let alone fails, a batch.
// It fails with ErrNotReady when the version is not Ready or Draining (the
// caller should hold it with Acquire), and with batcher.ErrQueueFull or
// batcher.ErrDeadline under overload.
//
// When the model's policy.yaml turns the response cache on (and r does
// not skip it), the answer this load of the version gave to the same
// inputs, if the cache holds it, is copied into r.Out at once, whatever
// the deadline, and r.Cached is set; otherwise the answer computed is
// stored.
func (v *Version) Infer(r *Request) error {
	r.Cached = false
	if st := v.State(); st != Ready && st != Draining {
		return fmt.Errorf("%s/%d is %s: %w", v.Model, v.Number, st, ErrNotReady)
	}
	c := v.live.cache.Load()
	if c == nil || r.SkipCache {
		return v.infer(r)
	}
	if err := v.prepare(r); err != nil {
		return err
	}
	key, hit := c.Lookup(v.loadID, r.In, r.Out)
	if hit {
		r.Cached = true
		return nil
	}
	if err := v.enqueue(r); err != nil {
		return err
	}
	c.Put(key, r.In, r.Out)
	return nil
}

// infer is Infer without the check of the version's state or the cache,
// for the gate, which runs a version while it is Gating.
func (v *Version) infer(r *Request) error {
	if err := v.prepare(r); err != nil {
		return err
	}
	return v.enqueue(r)
}

// prepare checks r's inputs against the signature and sizes r.Out.
func (v *Version) prepare(r *Request) error {
	if err := v.session.Check(r.In); err != nil {
		return err
	}
	n := len(v.Signature.Outputs)
	if cap(r.Out) < n {
		r.Out = slices.Grow(r.Out[:0], n)
	}
	r.Out = r.Out[:n]
	return nil
}

// enqueue runs r, prepared, through the batch queue.
func (v *Version) enqueue(r *Request) error {
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
//
// Each batch runs through an engine.Binding for its shape, kept for the
// next batch of the same shape, so a warm batch creates no onnxruntime
// values and allocates no buffers. Bindings live in gathers, one per
// executor slot: the batcher never runs more batches at once than it has
// slots, so taking a gather from the free list never waits.
type runner struct {
	session *engine.Session
	free    chan *gather
}

// gather is one executor slot's bindings, by batch shape.
type gather struct {
	bindings map[bindingKey]*engine.Binding
	shapes   [][]int64
}

type bindingKey struct {
	rows int
	key  uint64 // the batcher's key: the inputs' other dimensions
}

// maxBindings bounds the shapes a gather keeps bindings for; past it, one
// is dropped for each new shape.
const maxBindings = 32

func newRunner(s *engine.Session, executors int) *runner {
	r := &runner{session: s, free: make(chan *gather, executors)}
	for range executors {
		r.free <- &gather{bindings: map[bindingKey]*engine.Binding{}}
	}
	return r
}

// Run runs b: it copies every request's rows of every input into the
// binding, runs once, and copies each request's rows of every output back.
func (r *runner) Run(_ context.Context, b *batcher.Batch[*Request]) error {
	g := <-r.free
	defer func() { r.free <- g }()
	first := b.Items[0]
	bind, err := g.binding(r.session, b.Rows, first)
	if err != nil {
		return err
	}
	for i := range bind.In {
		dst := bind.In[i].Data[:0]
		for _, it := range b.Items {
			in := &it.Payload.In[i]
			if !slices.Equal(in.Shape[1:], first.Payload.In[i].Shape[1:]) {
				return fmt.Errorf("BUG: batch mixes shapes %v and %v of input %q", in.Shape, first.Payload.In[i].Shape, in.Name)
			}
			dst = append(dst, in.Data...)
		}
	}
	start := time.Now()
	err = bind.Run()
	b.RunTime = time.Since(start)
	if err != nil {
		return err
	}
	for j := range bind.Out {
		o := &bind.Out[j]
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

// binding returns the binding for a batch of rows rows shaped like first.
func (g *gather) binding(s *engine.Session, rows int, first *batcher.Item[*Request]) (*engine.Binding, error) {
	k := bindingKey{rows: rows, key: first.Key}
	if b := g.bindings[k]; b != nil {
		return b, nil
	}
	if len(g.bindings) >= maxBindings {
		for old, b := range g.bindings {
			b.Close()
			delete(g.bindings, old)
			break
		}
	}
	g.shapes = g.shapes[:0]
	for _, in := range first.Payload.In {
		g.shapes = append(g.shapes, append([]int64{int64(rows)}, in.Shape[1:]...))
	}
	b, err := s.Bind(g.shapes)
	if err != nil {
		return nil, err
	}
	g.bindings[k] = b
	return b, nil
}

// close releases every binding. The batch queue must be closed first.
func (r *runner) close() {
	for range cap(r.free) {
		g := <-r.free
		for k, b := range g.bindings {
			b.Close()
			delete(g.bindings, k)
		}
	}
}
