package server

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/valyala/fasthttp"
)

const contentTypeJSON = "application/json"

// route is an endpoint after the path has been split once.
type route struct {
	kind    routeKind
	model   []byte // the {m} segment, or the {id} of routeAdminRun, if any; aliases the request path
	version int    // the {v} segment, or 0 when absent
}

type routeKind uint8

const (
	routeNone routeKind = iota
	routeLive
	routeReady
	routeHealthz
	routeReadyz
	routeMetrics
	routeServerMeta
	routeModelMeta
	routeModelReady
	routeInfer
	routeRepoIndex
	routeRepoLoad
	routeRepoUnload
	routeMLflow    // MLflow's tracking API; methods checked per endpoint
	routeArtifacts // MLflow's artifact proxy; methods checked there
	// The operations API under /admin.
	routeAdminModels
	routeAdminModel
	routeAdminAudit
	routeAdminRuns
	routeAdminRun
	// The rollout actions, POST /admin/models/{m}/ACTION.
	routeAdminPromote
	routeAdminRollback
	routeAdminPause
	routeAdminResume
	// The records API and its documentation.
	routePredict      // POST /v1/models/{m}[/versions/{v}]:predict
	routeModelOpenAPI // GET /v1/models/{m}/openapi.json
	routeOpenAPI      // GET /openapi.json
	routeDocs         // GET /docs
)

// methods lists the method each route accepts.
var methods = [...]string{
	routeLive:       fasthttp.MethodGet,
	routeReady:      fasthttp.MethodGet,
	routeHealthz:    fasthttp.MethodGet,
	routeReadyz:     fasthttp.MethodGet,
	routeMetrics:    fasthttp.MethodGet,
	routeServerMeta: fasthttp.MethodGet,
	routeModelMeta:  fasthttp.MethodGet,
	routeModelReady: fasthttp.MethodGet,
	routeInfer:      fasthttp.MethodPost,
	routeRepoIndex:  fasthttp.MethodPost,
	routeRepoLoad:   fasthttp.MethodPost,
	routeRepoUnload: fasthttp.MethodPost,
	routeMLflow:     "",
	routeArtifacts:  "",

	routeAdminModels: fasthttp.MethodGet,
	routeAdminModel:  fasthttp.MethodGet,
	routeAdminAudit:  fasthttp.MethodGet,
	routeAdminRuns:   fasthttp.MethodGet,
	routeAdminRun:    fasthttp.MethodGet,

	routeAdminPromote:  fasthttp.MethodPost,
	routeAdminRollback: fasthttp.MethodPost,
	routeAdminPause:    fasthttp.MethodPost,
	routeAdminResume:   fasthttp.MethodPost,

	routePredict:      fasthttp.MethodPost,
	routeModelOpenAPI: fasthttp.MethodGet,
	routeOpenAPI:      fasthttp.MethodGet,
	routeDocs:         fasthttp.MethodGet,
}

// parseRoute splits path once and names the endpoint. It allocates nothing.
// A version segment that is not a positive integer is reported as an error.
func parseRoute(path []byte) (route, error) {
	if len(path) > 5 && path[1] == 'a' { // only MLflow's paths start so
		switch {
		case bytes.HasPrefix(path, []byte(mlflowPrefix)), bytes.HasPrefix(path, []byte(mlflowAjaxPrefix)):
			return route{kind: routeMLflow}, nil
		case bytes.HasPrefix(path, []byte(artifactsPrefix)):
			return route{kind: routeArtifacts}, nil
		}
	}
	var seg [8][]byte
	n := 0
	for p := path; len(p) > 0; {
		if p[0] == '/' {
			p = p[1:]
			continue
		}
		i := bytes.IndexByte(p, '/')
		if i < 0 {
			i = len(p)
		}
		if n == len(seg) {
			return route{}, errNoRoute
		}
		seg[n] = p[:i]
		n++
		p = p[i:]
	}
	s := seg[:n]
	is := func(i int, lit string) bool { return i < len(s) && string(s[i]) == lit }
	switch {
	case n == 1 && is(0, "healthz"):
		return route{kind: routeHealthz}, nil
	case n == 1 && is(0, "readyz"):
		return route{kind: routeReadyz}, nil
	case n == 1 && is(0, "metrics"):
		return route{kind: routeMetrics}, nil
	case n == 1 && is(0, "openapi.json"):
		return route{kind: routeOpenAPI}, nil
	case n == 1 && is(0, "docs"):
		return route{kind: routeDocs}, nil
	case is(0, "v1"):
		return recordsRoute(s)
	case !is(0, "v2"):
		if is(0, "admin") {
			return adminRoute(s)
		}
		return route{}, errNoRoute
	case n == 1:
		return route{kind: routeServerMeta}, nil
	case n == 3 && is(1, "health") && is(2, "live"):
		return route{kind: routeLive}, nil
	case n == 3 && is(1, "health") && is(2, "ready"):
		return route{kind: routeReady}, nil
	case n == 3 && is(1, "repository") && is(2, "index"):
		return route{kind: routeRepoIndex}, nil
	case n == 5 && is(1, "repository") && is(2, "models") && is(4, "load"):
		return route{kind: routeRepoLoad, model: s[3]}, nil
	case n == 5 && is(1, "repository") && is(2, "models") && is(4, "unload"):
		return route{kind: routeRepoUnload, model: s[3]}, nil
	case n < 3 || !is(1, "models"):
		return route{}, errNoRoute
	}
	r := route{model: s[2]}
	rest := s[3:]
	if len(rest) >= 2 && string(rest[0]) == "versions" {
		v, err := strconv.Atoi(string(rest[1]))
		if err != nil || v <= 0 || rest[1][0] == '0' {
			return route{}, fmt.Errorf("%w: version %q is not a positive integer", errNoRoute, rest[1])
		}
		r.version = v
		rest = rest[2:]
	}
	switch {
	case len(rest) == 0:
		r.kind = routeModelMeta
	case len(rest) == 1 && string(rest[0]) == "ready":
		r.kind = routeModelReady
	case len(rest) == 1 && string(rest[0]) == "infer":
		r.kind = routeInfer
	default:
		return route{}, errNoRoute
	}
	return r, nil
}

// recordsRoute names an endpoint of the records API, from the segments
// of a path under /v1: models/{m}:predict,
// models/{m}/versions/{v}:predict and models/{m}/openapi.json.
func recordsRoute(s [][]byte) (route, error) {
	const predict = ":predict"
	switch {
	case len(s) == 3 && string(s[1]) == "models" && bytes.HasSuffix(s[2], []byte(predict)) && len(s[2]) > len(predict):
		return route{kind: routePredict, model: s[2][:len(s[2])-len(predict)]}, nil
	case len(s) == 4 && string(s[1]) == "models" && string(s[3]) == "openapi.json":
		return route{kind: routeModelOpenAPI, model: s[2]}, nil
	case len(s) == 5 && string(s[1]) == "models" && string(s[3]) == "versions" && bytes.HasSuffix(s[4], []byte(predict)):
		num := s[4][:len(s[4])-len(predict)]
		v, err := strconv.Atoi(string(num))
		if err != nil || v <= 0 || num[0] == '0' {
			return route{}, fmt.Errorf("%w: version %q is not a positive integer", errNoRoute, num)
		}
		return route{kind: routePredict, model: s[2], version: v}, nil
	}
	return route{}, errNoRoute
}

// handle is the root handler: it recovers panics, routes, and checks the
// method.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	defer func() {
		if p := recover(); p != nil {
			s.metrics.panics.Inc()
			s.log.Error("handler panic", "panic", p, "path", string(ctx.Path()))
			writeError(ctx, fmt.Errorf("internal error"))
		}
	}()
	r, err := parseRoute(ctx.Path())
	if err != nil && bytes.HasPrefix(ctx.URI().PathOriginal(), []byte(artifactsPrefix)) {
		// A path with dot segments that normalised out of the artifacts
		// prefix is still the artifact proxy's to refuse.
		r, err = route{kind: routeArtifacts}, nil
	}
	if err != nil {
		writeError(ctx, fmt.Errorf("%s %s: %w", ctx.Method(), ctx.Path(), err))
		return
	}
	if m := methods[r.kind]; m != "" && string(ctx.Method()) != m {
		ctx.Response.Header.Set("Allow", m)
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		ctx.SetContentType(contentTypeJSON)
		ctx.SetBody(appendErrorJSON(nil, fmt.Sprintf("method %s not allowed on %s; use %s", ctx.Method(), ctx.Path(), m)))
		return
	}
	switch r.kind {
	case routeInfer:
		s.infer(ctx, r, ctx.Time()) // fasthttp read the clock as the request arrived
	case routeLive, routeHealthz:
		s.live(ctx, r.kind == routeHealthz)
	case routeReady, routeReadyz:
		s.ready(ctx, r.kind == routeReadyz)
	case routeMetrics:
		s.promh(ctx)
	case routeServerMeta:
		s.serverMetadata(ctx)
	case routeModelMeta:
		s.modelMetadata(ctx, r)
	case routeModelReady:
		s.modelReady(ctx, r)
	case routeRepoIndex:
		s.repositoryIndex(ctx)
	case routeRepoLoad, routeRepoUnload:
		s.repositoryLoad(ctx, r)
	case routeMLflow:
		s.mlflow(ctx)
	case routeArtifacts:
		s.artifacts(ctx)
	case routeAdminModels, routeAdminModel, routeAdminAudit, routeAdminRuns, routeAdminRun,
		routeAdminPromote, routeAdminRollback, routeAdminPause, routeAdminResume:
		s.admin(ctx, r)
	case routePredict:
		s.predict(ctx, r, ctx.Time())
	case routeModelOpenAPI:
		s.modelOpenAPI(ctx, r)
	case routeOpenAPI:
		s.serverOpenAPI(ctx)
	case routeDocs:
		s.docs(ctx)
	}
}
