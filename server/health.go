package server

import (
	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// live serves GET /v2/health/live and /healthz: the process is up and
// answering. plain selects the load-balancer form (text body).
func (s *Server) live(ctx *fasthttp.RequestCtx, plain bool) {
	writeHealth(ctx, plain, "live", true)
}

// ready serves GET /v2/health/ready and /readyz: the server is not shutting
// down and every model that has versions on disk can serve at least one.
// A model that was unloaded on purpose does not count against readiness.
func (s *Server) ready(ctx *fasthttp.RequestCtx, plain bool) {
	writeHealth(ctx, plain, "ready", s.isReady())
}

func (s *Server) isReady() bool {
	if s.draining.Load() {
		return false
	}
	for _, m := range s.store.Models() {
		if m.Serving() != nil {
			continue
		}
		for _, v := range m.Versions {
			if v.State() != modelstore.Unloaded {
				return false
			}
		}
	}
	return true
}

// modelReady serves GET /v2/models/{m}[/versions/{v}]/ready.
func (s *Server) modelReady(ctx *fasthttp.RequestCtx, r route) {
	_, err := s.store.Lookup(b2s(r.model), r.version)
	if err != nil && statusOf(err) == fasthttp.StatusNotFound {
		writeError(ctx, err)
		return
	}
	writeHealth(ctx, false, "ready", err == nil)
}

// writeHealth answers a health check. As the V2 protocol asks, a false
// answer is a 4xx (400, as Triton) in JSON form; the plain form for load
// balancers answers 503 with a text body.
func writeHealth(ctx *fasthttp.RequestCtx, plain bool, what string, ok bool) {
	switch {
	case plain && ok:
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("ok\n")
	case plain:
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("not " + what + "\n")
	default:
		if !ok {
			ctx.SetStatusCode(fasthttp.StatusBadRequest)
		}
		ctx.SetContentType(contentTypeJSON)
		if ok {
			ctx.SetBodyString(`{"` + what + `":true}`)
		} else {
			ctx.SetBodyString(`{"` + what + `":false}`)
		}
	}
}
