// Package server is switchyard's HTTP front end on fasthttp: the Open
// Inference Protocol ("V2") endpoints, the records API (named features
// validated against each version's feature schema, POST
// /v1/models/{m}:predict, with a 422 that lists every problem), the OpenAPI
// documents generated from those schemas and the /docs page that renders
// them, the status page (GET /, reading the operations API, with the short
// history of each version's traffic it charts at GET /admin/history),
// health checks for load balancers, the repository API, Prometheus
// metrics. It also serves the other audiences, each its own package:
// MLflow's tracking API (server/mlflow) and the operations API under
// /admin (server/admin, behind a bearer token when Config.AdminToken is
// set). Every answer to an inference request carries a prediction id, for
// the feedback to come.
//
// Routing: each audience declares its endpoints in one table, one line per
// endpoint (method, path pattern, access class infer, read or write,
// handler, OpenAPI operation). New compiles the tables into one router
// (server/internal/httpapi), which splits a path once with no regexp and
// no allocation; the root handler knows each request's endpoint and access
// class before the handler runs, and /openapi.json is built from the same
// tables.
//
// Handlers translate and hold no business rules: they decode a request,
// call the model store (through Models, an interface the server declares),
// and encode the answer. An inference request reads the routing table once,
// acquires the version it routes to and releases it when answered, so a
// hot swap never fails a request and X-Model-Version always names the
// version that answered. Errors become HTTP statuses in one place
// (httpapi.StatusOf). Request decoding uses pooled fastjson parsers and
// copies every value out before the parser is reused; responses are
// appended into pooled byte slices, so a warm inference request allocates
// almost nothing.
//
// Concurrency: a Server serves each connection on its own goroutine.
// Nothing a handler keeps outlives the request: per-request scratch comes
// from a pool and goes back before the handler returns.
// Serve runs the server's own goroutines beside fasthttp's and waits for
// them before it returns: the metrics cleanup, the shadow worker and the
// history sampler, which reads the request metrics every
// Config.HistoryInterval and never touches a request.
//
// Usage:
//
//	srv, err := server.New(server.Config{}, store, registry) // store: a *modelstore.Store
//	if err != nil { ... }
//	go srv.Serve(ln)
//	...
//	srv.Shutdown(ctx) // readiness goes false, in-flight requests finish
package server
