package server

import (
	"fmt"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// scratch is the per-request working memory of an inference: the decoded
// request (V2 or records), the output tensors and the response bytes. It
// comes from Server.scratch and goes back before the handler returns.
type scratch struct {
	req inferRequest
	rec records
	run modelstore.Request
	buf []byte
}

// maxPooledBytes caps what a pooled scratch keeps, so that one huge request
// does not pin its buffers for the life of the process.
const maxPooledBytes = 1 << 20

func (s *Server) getScratch() *scratch {
	if sc, ok := s.scratch.Get().(*scratch); ok {
		return sc
	}
	return new(scratch)
}

func (s *Server) putScratch(sc *scratch) {
	size := cap(sc.buf) + cap(sc.req.idBuf) + cap(sc.req.num) + sc.rec.pooledBytes()
	for _, in := range sc.req.inputs[:cap(sc.req.inputs)] {
		size += cap(in.Data)
	}
	for i := range sc.run.Out {
		size += cap(sc.run.Out[i].Data)
	}
	if size > maxPooledBytes {
		return
	}
	sc.req.reset()
	sc.rec.reset()
	sc.run.In, sc.run.Cached = nil, false
	s.scratch.Put(sc)
}

// infer serves POST /v2/models/{m}[/versions/{v}]/infer.
// fasthttp read the clock as the request arrived: ctx.Time is its start.
func (s *Server) infer(ctx *fasthttp.RequestCtx, p httpapi.Params) {
	start, model := ctx.Time(), p.Get("model")
	v, shadow, split, err := s.acquire(b2s(model), p.Version(), ctx.Request.Header.Peek(routingKeyHeader))
	if err != nil {
		s.metrics.observe(nil, httpapi.WriteError(ctx, err), time.Since(start))
		return
	}
	sc := s.getScratch()
	picked := v
	v, status := s.runInfer(ctx, v, sc, start, model, split)
	if v != picked {
		shadow = nil // the request's id moved it off the stable arm
	}
	d := time.Since(start)
	recordOutcome(v, status, start.Add(d), d, &sc.run)
	if status == fasthttp.StatusOK && shadow != nil {
		s.offerShadow(shadow, v, sc.req.inputs, sc.run.Out)
	}
	v.Release()
	s.putScratch(sc)
	s.metrics.observe(v, status, d)
}

// recordOutcome records the outcome of a request version v answered
// with status after d, ending at end, for the rollout controller: a
// success with the scores of run's outputs, or an error when the fault
// was the model's or the server's, not the client's. An answer from the
// response cache is not recorded: the version ran nothing, and a hit's
// latency would flatter the arm whose cache is warmer.
func recordOutcome(v *modelstore.Version, status int, end time.Time, d time.Duration, run *modelstore.Request) {
	switch {
	case run.Cached:
	case status == fasthttp.StatusOK:
		v.RecordSuccess(end, d, run.Out)
	case status >= fasthttp.StatusInternalServerError:
		v.RecordError(end, d)
	}
}

// routingKeyHeader carries a request's routing key: requests with the same
// key go to the same arm of a split, on every replica.
const routingKeyHeader = "X-Routing-Key"

// maxAcquireTries bounds how often acquire reads the table again after
// finding a version that had just begun to drain. Each retry sees a newer
// table, since a version leaves the table before it drains.
const maxAcquireTries = 4

// acquire returns the version that serves a request for model (version 0:
// the arm the routing key, or a random draw without one, picks), and the
// shadow version that should get a copy when that is the stable arm. The
// version is held until the caller releases it, so that the request
// finishes on the version it started on even if that one leaves service
// meanwhile. split is the route when a request that names no version and
// carries no routing key met a split: its id, once decoded, picks the arm.
// acquire reads the routing table once per try and takes no lock.
func (s *Server) acquire(model string, version int, key []byte) (v, shadow *modelstore.Version, split *rollout.Route[*modelstore.Version], err error) {
	for range maxAcquireTries {
		rt := s.models.Table().Route(model)
		var ok bool
		if version == 0 {
			v, ok = rt.PickKey(model, key)
		} else {
			v, ok = rt.Version(version)
		}
		if !ok {
			if _, err := s.models.Lookup(model, version); err != nil {
				return nil, nil, nil, err
			}
			continue // routed since we read the table
		}
		if v.Acquire() {
			if sh, ok := rt.Shadow(); ok && version == 0 {
				if stable, _ := rt.Pick(); stable == v {
					shadow = sh
				}
			}
			if version == 0 && key == nil && rt.NumArms() > 1 {
				split = rt
			}
			return v, shadow, split, nil
		}
	}
	return nil, nil, nil, fmt.Errorf("model %q: its versions are being swapped: %w", model, modelstore.ErrNotReady)
}

// byID moves a request that carried no routing key to the arm its id
// picks, when that is another version with the same inputs, which the
// request has already been decoded against. It returns the version that
// will answer, held; v is released if it is not that one.
func byID(split *rollout.Route[*modelstore.Version], model []byte, id []byte, v *modelstore.Version) *modelstore.Version {
	w, ok := split.PickKey(b2s(model), id)
	if !ok || w == v || !sameInputs(w.Signature, v.Signature) || !w.Acquire() {
		return v
	}
	v.Release()
	return w
}

// sameInputs reports whether two signatures take the same inputs, in the
// same order, with the same types and shapes.
func sameInputs(a, b *engine.Signature) bool {
	if len(a.Inputs) != len(b.Inputs) {
		return false
	}
	for i := range a.Inputs {
		x, y := a.Inputs[i], b.Inputs[i]
		if x.Name != y.Name || x.DType != y.DType || !slices.Equal(x.Shape, y.Shape) {
			return false
		}
	}
	return true
}

// runInfer decodes, runs and encodes one request for version v and returns
// the version that answered (another, held, when split is not nil and the
// request's id picks it) and the status it answered with.
func (s *Server) runInfer(ctx *fasthttp.RequestCtx, v *modelstore.Version, sc *scratch, start time.Time,
	model []byte, split *rollout.Route[*modelstore.Version]) (*modelstore.Version, int) {
	ctx.Response.Header.Set("X-Model-Version", v.Label)
	body, binaryPart, err := splitBody(ctx.Request.Header.Peek(binaryHeader), ctx.PostBody())
	if err != nil {
		return v, writeVersionError(ctx, v, err)
	}
	if err := decodeInferRequest(body, binaryPart, v.Signature, &sc.req); err != nil {
		return v, writeVersionError(ctx, v, err)
	}
	if split != nil && sc.req.id != nil {
		if w := byID(split, model, sc.req.id, v); w != v {
			v = w
			ctx.Response.Header.Set("X-Model-Version", v.Label)
		}
	}
	timeout, err := requestTimeout(ctx, sc.req.timeout, v)
	if err != nil {
		return v, writeVersionError(ctx, v, err)
	}
	if err := run(v, &sc.run, sc.req.inputs, start, timeout); err != nil {
		return v, writeVersionError(ctx, v, err)
	}
	var pid [predictionIDLen]byte
	id := s.ids.appendID(pid[:0], s.ids.reserve(1))
	buf, err := appendInferResponse(sc.buf[:0], v.Model, v.Label, sc.req.id, id, sc.run.Out, sc.req.outputs, sc.req.binary)
	if err != nil {
		return v, writeVersionError(ctx, v, err)
	}
	logged := s.offerLog(v, id, ctx.Time(), sc.req.inputs, sc.run.Out) // fasthttp read the clock as the request arrived
	s.offerDrift(v, id, sc.req.inputs, sc.run.Out, logged)
	if len(sc.req.binary) == 0 {
		ctx.SetContentType(httpapi.ContentTypeJSON)
	} else {
		var n [20]byte
		ctx.Response.Header.SetBytesV(binaryHeader, strconv.AppendInt(n[:0], int64(len(buf)), 10))
		ctx.SetContentType(contentTypeBinary)
		buf = appendBinaryOutputs(buf, sc.run.Out, sc.req.outputs, sc.req.binary)
	}
	// Hand the encoded bytes to fasthttp and keep its old body buffer as
	// the next request's scratch: no copy.
	sc.buf = ctx.Response.SwapBody(buf)
	return v, fasthttp.StatusOK
}

// timeoutHeader carries a request's deadline in milliseconds.
const timeoutHeader = "X-Request-Timeout-Ms"

// run runs the inputs in through v's batch queue into req, which must
// start running within timeout of start (0: no limit).
func run(v *modelstore.Version, req *modelstore.Request, in []engine.Tensor, start time.Time, timeout time.Duration) error {
	req.In = in
	req.Deadline = time.Time{}
	if timeout > 0 {
		req.Deadline = start.Add(timeout)
	}
	return v.Infer(req)
}

// requestTimeout returns how long the request may wait before it runs: the
// X-Request-Timeout-Ms header, else param, the request's own timeout (V2's
// parameter "timeout", microseconds as in Triton; 0 when it has none),
// else the model's default; 0 means no limit.
func requestTimeout(ctx *fasthttp.RequestCtx, param time.Duration, v *modelstore.Version) (time.Duration, error) {
	if h := ctx.Request.Header.Peek(timeoutHeader); len(h) > 0 {
		ms, err := strconv.ParseUint(b2s(h), 10, 32)
		if err != nil {
			return 0, httpapi.RequestErrorf("%s: %q is not a whole number of milliseconds", timeoutHeader, h)
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	if param > 0 {
		return param, nil
	}
	return v.DefaultTimeout(), nil
}

// writeVersionError is httpapi.WriteError for a request that reached a version: the
// answer still says which version handled it.
func writeVersionError(ctx *fasthttp.RequestCtx, v *modelstore.Version, err error) int {
	status := httpapi.WriteError(ctx, err)
	ctx.Response.Header.Set("X-Model-Version", v.Label)
	return status
}

// b2s views b as a string without copying. The result must not be kept
// beyond the life of b, nor b modified while it is in use: callers use it
// only for lookups.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
