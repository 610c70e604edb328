package server

import (
	"encoding/json"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// live serves GET /v2/health/live and /healthz: the process is up and
// answering. plain selects the load-balancer form (text body).
func (s *Server) live(ctx *fasthttp.RequestCtx, plain bool) {
	writeHealth(ctx, plain, "live", true)
}

// ready serves GET /v2/health/ready and /readyz. The server is ready from
// the moment it listens (the store has loaded what serves by then) until
// it shuts down. A model that cannot serve (every version failed, or a new
// one still loading) is reported in the log, the metrics and the
// repository index, but does not make the replica unready, since one bad
// publish would otherwise empty a whole fleet at once. With
// Config.StrictReadiness it does: the server is unready while any model
// that has a version loading, ready or failed has none routed (a model
// unloaded on purpose does not count).
//
// A ready answer lists, as warnings, each model whose rollout state in
// force is not yet written to its rollout.json (a read-only or full
// registry): it serves from memory, and is lost if the process dies
// before the write succeeds and the audit trail cannot recall it.
func (s *Server) ready(ctx *fasthttp.RequestCtx, plain bool) {
	ok := s.isReady()
	writeHealth(ctx, plain, "ready", ok)
	if !ok {
		return
	}
	var warnings []string
	for _, m := range s.models.Models() {
		if m.PersistError != "" {
			warnings = append(warnings, fmt.Sprintf("%s: rollout.json not written, the state in force serves from memory: %s", m.Name, m.PersistError))
		}
	}
	if len(warnings) == 0 {
		return
	}
	if plain {
		for _, w := range warnings {
			ctx.Response.AppendBodyString("warning: " + w + "\n")
		}
		return
	}
	body, _ := json.Marshal(map[string]any{"ready": true, "warnings": warnings})
	ctx.SetBody(body)
}

func (s *Server) isReady() bool {
	if s.draining.Load() {
		return false
	}
	if !s.cfg.StrictReadiness {
		return true
	}
	t := s.models.Table()
	for _, m := range s.models.Models() {
		if _, ok := t.Route(m.Name).Pick(); ok {
			continue
		}
		for _, v := range m.Versions {
			if st := v.State(); st != modelstore.Unloaded && st != modelstore.Draining {
				return false
			}
		}
	}
	return true
}

// modelReady serves GET /v2/models/{m}[/versions/{v}]/ready: true while
// the routing table sends the model's (or the version's) requests to a
// ready version.
func (s *Server) modelReady(ctx *fasthttp.RequestCtx, p httpapi.Params) {
	model, version := p.Get("model"), p.Version()
	rt := s.models.Table().Route(b2s(model))
	var ok bool
	if version == 0 {
		_, ok = rt.Pick()
	} else {
		_, ok = rt.Version(version)
	}
	if !ok {
		if _, err := s.models.Lookup(string(model), version); err != nil && httpapi.StatusOf(err) == fasthttp.StatusNotFound {
			httpapi.WriteError(ctx, err)
			return
		}
	}
	writeHealth(ctx, false, "ready", ok)
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
		ctx.SetContentType(httpapi.ContentTypeJSON)
		if ok {
			ctx.SetBodyString(`{"` + what + `":true}`)
		} else {
			ctx.SetBodyString(`{"` + what + `":false}`)
		}
	}
}
