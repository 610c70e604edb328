// Package httpapi holds what the server's audiences share: the endpoint
// table and the router compiled from it, the one mapping from errors to
// HTTP statuses (StatusOf, WriteError), the request error type and the
// JSON writers.
//
// Package server (inference, probes, metadata, documentation) and its
// audience packages server/mlflow and server/admin each declare their
// endpoints as an API, one Endpoint per line; server compiles them into
// one Router at New and dispatches every request through it. The
// audience packages classify their errors by wrapping the sentinels of
// this package (ErrBadRequest, ErrNotFound, ...), so that StatusOf stays
// the only mapping.
//
// Everything here is safe for concurrent use once built: a Router is
// immutable after NewRouter.
package httpapi
