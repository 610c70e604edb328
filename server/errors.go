package server

import (
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// errNoRoute is returned for a path that names no endpoint.
var errNoRoute = errors.New("no such endpoint")

// errUnauthorized answers an operations API request without the
// configured bearer token (401).
var errUnauthorized = errors.New("the operations API needs the admin token: Authorization: Bearer TOKEN")

// errNoAdminStore answers the operations API's audit and runs endpoints on
// a server without a tracking store (503).
var errNoAdminStore = errors.New("this server has no tracking store for the operations API")

// errNoRecords answers a records request for a version that cannot
// serve one: it has no feature schema, or no output to answer with (404).
var errNoRecords = errors.New("this version serves no records API, only V2 inference")

// statusOf maps an error to its HTTP status. It is the only such mapping.
func statusOf(err error) int {
	var (
		re *requestError
		pe *problemsError
	)
	switch {
	case errors.As(err, &pe):
		return fasthttp.StatusUnprocessableEntity
	case errors.As(err, &re),
		errors.Is(err, engine.ErrShape),
		errors.Is(err, engine.ErrDType):
		return fasthttp.StatusBadRequest
	case errors.Is(err, tracking.ErrInvalid), errors.Is(err, rollout.ErrState):
		return fasthttp.StatusBadRequest
	case errors.Is(err, modelstore.ErrNotFound), errors.Is(err, errNoRoute), errors.Is(err, tracking.ErrNotFound),
		errors.Is(err, errNoRecords):
		return fasthttp.StatusNotFound
	case errors.Is(err, errUnauthorized):
		return fasthttp.StatusUnauthorized
	case errors.Is(err, modelstore.ErrNotReady), errors.Is(err, batcher.ErrQueueFull), errors.Is(err, errNoAdminStore):
		return fasthttp.StatusServiceUnavailable // writeError adds Retry-After
	case errors.Is(err, batcher.ErrDeadline):
		return fasthttp.StatusGatewayTimeout
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return fasthttp.StatusRequestEntityTooLarge
	}
	return fasthttp.StatusInternalServerError
}

// writeError answers with err's status and {"error": "..."}, or for a
// *problemsError the records API's 422 body, which lists the problems.
func writeError(ctx *fasthttp.RequestCtx, err error) int {
	status := statusOf(err)
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentType(contentTypeJSON)
	if status == fasthttp.StatusServiceUnavailable {
		ctx.Response.Header.Set("Retry-After", "1")
	}
	if pe, ok := errors.AsType[*problemsError](err); ok {
		ctx.Response.SetBodyRaw(pe.appendJSON(nil))
		return status
	}
	ctx.Response.SetBodyRaw(appendErrorJSON(nil, err.Error()))
	return status
}
