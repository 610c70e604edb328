package server

import (
	"slices"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// The records API: named features in, named predictions out.
//
//	POST /v1/models/{m}:predict
//	POST /v1/models/{m}/versions/{v}:predict
//	{"instances": [{"amount": 12.5, "country": "FR"}, ...]}
//
// answers
//
//	{"model_name": "fraud", "model_version": "2",
//	 "predictions": [{"label": "1", "probabilities": {"0": 0.1, "1": 0.9}}, ...],
//	 "prediction_ids": ["3f9a1c0b5e7d2a48-000000000000002a", ...]}
//
// A request goes through what a V2 request goes through: the routing
// table (X-Routing-Key for sticky arms; the records API has no request
// id), the version's batch queue, X-Request-Timeout-Ms or the model's
// default deadline, the request metrics, the rollout statistics and the
// shadow copy. Every instance is validated against the version's feature
// schema before anything is queued (decodeRecords); a version without one
// answers 404 (errNoRecords), bad instances 422 with every problem
// (problemsError).

// predict serves POST /v1/models/{m}[/versions/{v}]:predict.
func (s *Server) predict(ctx *fasthttp.RequestCtx, p httpapi.Params) {
	start := ctx.Time() // fasthttp read the clock as the request arrived
	v, shadow, _, err := s.acquire(b2s(p.Get("model")), p.Version(), ctx.Request.Header.Peek(routingKeyHeader))
	if err != nil {
		s.metrics.observe(nil, httpapi.WriteError(ctx, err), time.Since(start))
		return
	}
	sc := s.getScratch()
	status := s.runPredict(ctx, v, sc, start)
	d := time.Since(start)
	recordOutcome(v, status, start.Add(d), d, &sc.run)
	if status == fasthttp.StatusOK && shadow != nil {
		s.offerRecordsShadow(shadow, v, ctx.PostBody(), sc)
	}
	v.Release()
	s.putScratch(sc)
	s.metrics.observe(v, status, d)
}

// runPredict decodes, runs and encodes one records request for version v
// and returns the status it answered with.
func (s *Server) runPredict(ctx *fasthttp.RequestCtx, v *modelstore.Version, sc *scratch, start time.Time) int {
	ctx.Response.Header.Set("X-Model-Version", v.Label)
	sch, err := recordSchemaOf(v)
	if err != nil {
		return writeVersionError(ctx, v, err)
	}
	if err := decodeRecords(ctx.PostBody(), &sch, &sc.rec); err != nil {
		return writeVersionError(ctx, v, err)
	}
	timeout, err := requestTimeout(ctx, 0, v)
	if err != nil {
		return writeVersionError(ctx, v, err)
	}
	if err := run(v, &sc.run, sc.rec.inputs, start, timeout); err != nil {
		return writeVersionError(ctx, v, err)
	}
	rows, first := sc.rec.rows, s.ids.reserve(sc.rec.rows)
	buf, err := appendPredictResponse(sc.buf[:0], v.Model, v.Label, &sch, &sc.run.Out[sch.output], rows, s.ids, first)
	if err != nil {
		return writeVersionError(ctx, v, err)
	}
	s.offerRecords(v, first, rows, sc.rec.inputs, sc.run.Out)
	ctx.SetContentType(httpapi.ContentTypeJSON)
	// As runInfer does: no copy, the old body buffer is the next scratch.
	sc.buf = ctx.Response.SwapBody(buf)
	return fasthttp.StatusOK
}

// offerRecordsShadow hands the shadow version a copy of a records request
// that v, the stable version, answered: the inputs v ran when the
// shadow's schema encodes records as v's does, or else the request body
// decoded anew against the shadow's schema. A shadow that cannot take a
// record v took (no schema, or one that refuses it) disagrees with v, as
// a V2 shadow that fails does.
func (s *Server) offerRecordsShadow(shadow, v *modelstore.Version, body []byte, sc *scratch) {
	if sameRecordEncoding(shadow, v) {
		s.offerShadow(shadow, v, sc.rec.inputs, sc.run.Out)
		return
	}
	sch, err := recordSchemaOf(shadow)
	var rec records
	if err == nil {
		err = decodeRecords(body, &sch, &rec)
	}
	if err != nil {
		shadow.Agreement.RecordMismatch(1)
		return
	}
	s.offerShadow(shadow, v, rec.inputs, sc.run.Out)
}

// sameRecordEncoding reports whether records encode into the same input
// tensors for a as for b: both have feature schemas with the same
// features (names, types, values and defaults), in the same places of the
// same inputs.
func sameRecordEncoding(a, b *modelstore.Version) bool {
	if a.Features == nil || b.Features == nil || !sameInputs(a.Signature, b.Signature) ||
		!slices.Equal(a.Features.Inputs, b.Features.Inputs) || !slices.Equal(a.Features.Features, b.Features.Features) {
		return false
	}
	return slices.EqualFunc(a.Manifest.Features, b.Manifest.Features, func(x, y modelstore.Feature) bool {
		// Defaults are float64, string or bool (Schema.Check), so == is safe.
		return x.Name == y.Name && x.Type == y.Type && slices.Equal(x.Values, y.Values) && x.Default == y.Default
	})
}
