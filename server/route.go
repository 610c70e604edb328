package server

import (
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/server/internal/openapi"
)

// api returns the root API's endpoint table: inference, probes, metrics,
// metadata, the repository API, the documentation, and the status page
// with the traffic history it charts, one line per endpoint. Adding an endpoint is adding its line: the router and
// /openapi.json both read the table.
func (s *Server) api() *httpapi.API {
	const (
		get, post          = fasthttp.MethodGet, fasthttp.MethodPost
		public             = httpapi.Public
		infer, read, write = httpapi.Infer, httpapi.Read, httpapi.Write
	)
	m, v := openapi.ModelParam, versionParam(0)
	lines := []struct {
		method, path string
		access       httpapi.Access
		handle       httpapi.Handler
		op           *openapi.Operation
	}{
		{post, "/v2/models/{model}/infer", infer, s.infer, inferOp("infer", "Run the version the model's routing picks", m)},
		{post, "/v2/models/{model}/versions/{version}/infer", infer, s.infer, inferOp("inferVersion", "Run one version", m, v)},
		{post, "/v1/models/{model}:predict", infer, s.predict,
			predictOperation("predict", "Predict with the version the model's routing picks", []openapi.Parameter{m}, nil)},
		{post, "/v1/models/{model}/versions/{version}:predict", infer, s.predict,
			predictOperation("predictVersion", "Predict with one version of the model", []openapi.Parameter{m, v}, nil)},
		{post, "/v1/feedback", write, s.feedback, feedbackOp()},

		{get, "/v2", infer, plain(s.serverMetadata), openapi.Op(tagV2, "serverMetadata", "The server's name, version and extensions",
			openapi.JSONOK("The server's metadata.", openapi.Ref("ServerMetadata")))},
		{get, "/v2/health/live", public, func(ctx *fasthttp.RequestCtx, _ httpapi.Params) { s.live(ctx, false) },
			openapi.Op(tagV2, "serverLive", "Whether the server is up", openapi.JSONOK("live is true.", openapi.Ref("Live")))},
		{get, "/v2/health/ready", public, func(ctx *fasthttp.RequestCtx, _ httpapi.Params) { s.ready(ctx, false) }, serverReadyOp()},
		{get, "/v2/models/{model}", infer, s.modelMetadata, metadataOp("modelMetadata", "A model's metadata", m)},
		{get, "/v2/models/{model}/versions/{version}", infer, s.modelMetadata, metadataOp("modelVersionMetadata", "A version's metadata", m, v)},
		{get, "/v2/models/{model}/ready", infer, s.modelReady, readyOp("modelReady", "Whether the model serves", m)},
		{get, "/v2/models/{model}/versions/{version}/ready", infer, s.modelReady, readyOp("modelVersionReady", "Whether the version serves", m, v)},

		{post, "/v2/repository/index", read, plain(s.repositoryIndex), repositoryIndexOp()},
		{post, "/v2/repository/models/{model}/load", write,
			func(ctx *fasthttp.RequestCtx, p httpapi.Params) { s.repositoryLoad(ctx, p, true) }, repositoryLoadOp("load")},
		{post, "/v2/repository/models/{model}/unload", write,
			func(ctx *fasthttp.RequestCtx, p httpapi.Params) { s.repositoryLoad(ctx, p, false) }, repositoryLoadOp("unload")},

		{get, "/v1/models/{model}/openapi.json", read, s.modelOpenAPI, modelOpenAPIOp()},
		{get, "/openapi.json", read, plain(s.serverOpenAPI), openapi.Op(tagDocs, "serverOpenAPI", "This document",
			openapi.JSONOK("An OpenAPI 3.1 document.", &openapi.Schema{Type: openapi.TypeObject}))},
		{get, "/docs", read, plain(s.docs), docsOp()},
		{get, "/v1/models/{model}/versions/{version}/card", read, s.modelCard, modelCardOp()},
		{get, "/", public, plain(s.status), statusOp()},
		{get, "/admin/history", read, plain(s.serveHistory), historyOp()},

		{get, "/metrics", public, plain(s.promh), openapi.Op(tagProbes, "metrics", "Prometheus metrics",
			openapi.TextOK("The metrics in Prometheus' text format."))},
		{get, "/healthz", public, func(ctx *fasthttp.RequestCtx, _ httpapi.Params) { s.live(ctx, true) },
			openapi.Op(tagProbes, "healthz", "Whether the process is up", openapi.TextOK("ok"))},
		{get, "/readyz", public, func(ctx *fasthttp.RequestCtx, _ httpapi.Params) { s.ready(ctx, true) }, readyzOp()},
	}
	a := &httpapi.API{Tags: rootTags, Components: addCardSchemas}
	for _, l := range lines {
		a.Endpoints = append(a.Endpoints, httpapi.Endpoint{Method: l.method, Path: l.path, Access: l.access, Handler: l.handle, Op: l.op})
	}
	return a
}

// plain adapts a handler of a path without parameters.
func plain(h func(ctx *fasthttp.RequestCtx)) httpapi.Handler {
	return func(ctx *fasthttp.RequestCtx, _ httpapi.Params) { h(ctx) }
}

// handle is the root handler: it recovers panics and routes. Every
// request's endpoint, with its access class, is known here before its
// handler runs, and so is its body, read whole (readBody), unless the
// endpoint streams it.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	defer func() {
		if p := recover(); p != nil {
			s.metrics.panics.Inc()
			s.log.Error("handler panic", "panic", p, "path", string(ctx.Path()))
			httpapi.WriteError(ctx, fmt.Errorf("internal error"))
		}
	}()
	s.closeIfDraining(ctx)
	e, p, err := s.router.Match(ctx.Method(), ctx.Path())
	var denied error
	if err == nil {
		denied = s.authorize(ctx, e) // before a body is read
	}
	// Only an endpoint that streams its body sees a stream; every other
	// one, or none, gets the body read whole first, up to the limit.
	if ctx.Request.IsBodyStream() && (err != nil || denied != nil || !e.StreamBody) {
		if err := s.readBody(ctx); err != nil {
			s.refuseBody(ctx, err)
			return
		}
	}
	if err == nil && denied == nil && e.Access == httpapi.Write && !e.StreamBody && !jsonBody(&ctx.Request) {
		denied = errNotJSON
	}
	switch {
	case err != nil:
		s.router.Refuse(ctx, err)
		return
	case denied != nil:
		s.router.Deny(ctx, denied)
		return
	}
	e.Handler(ctx, p)
}
