package httpapi

import (
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/errtext"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// ContentTypeJSON is the content type of every JSON answer.
const ContentTypeJSON = "application/json"

// StatusOf maps an error to its HTTP status. It is the only such mapping:
// the audience packages classify their errors by wrapping this package's
// sentinels.
func StatusOf(err error) int {
	var (
		re *RequestError
		me *MethodError
	)
	switch {
	case errors.Is(err, ErrUnprocessable):
		return fasthttp.StatusUnprocessableEntity
	case errors.As(err, &re), errors.Is(err, ErrBadRequest),
		errors.Is(err, engine.ErrShape),
		errors.Is(err, engine.ErrDType):
		return fasthttp.StatusBadRequest
	case errors.Is(err, tracking.ErrInvalid), errors.Is(err, rollout.ErrState):
		return fasthttp.StatusBadRequest
	case errors.As(err, &me):
		return fasthttp.StatusMethodNotAllowed
	case errors.Is(err, modelstore.ErrNotFound), errors.Is(err, ErrNotFound), errors.Is(err, tracking.ErrNotFound):
		return fasthttp.StatusNotFound
	case errors.Is(err, ErrUnauthorized), errors.Is(err, access.ErrUnauthenticated):
		return fasthttp.StatusUnauthorized
	case errors.Is(err, access.ErrForbidden):
		return fasthttp.StatusForbidden
	case errors.Is(err, ErrUnsupportedMediaType):
		return fasthttp.StatusUnsupportedMediaType
	case errors.Is(err, modelstore.ErrNotReady), errors.Is(err, batcher.ErrQueueFull), errors.Is(err, ErrUnavailable):
		return fasthttp.StatusServiceUnavailable // WriteError adds Retry-After
	case errors.Is(err, batcher.ErrDeadline):
		return fasthttp.StatusGatewayTimeout
	case errors.Is(err, fasthttp.ErrBodyTooLarge), errors.Is(err, engine.ErrTooLarge):
		return fasthttp.StatusRequestEntityTooLarge
	case errors.Is(err, ErrHeaderFieldsTooLarge):
		return fasthttp.StatusRequestHeaderFieldsTooLarge
	}
	return fasthttp.StatusInternalServerError
}

// BodyError is an error that writes its own JSON body, such as the records
// API's 422 that lists every problem. WriteError answers it with that body
// instead of {"error": "..."}.
type BodyError interface {
	error
	// AppendJSON appends the error's JSON body to dst and returns the
	// extended slice.
	AppendJSON(dst []byte) []byte
}

// WriteError answers with err's status and {"error": "..."}, or for a
// BodyError with its own body, and returns the status. The message is
// errtext.Text(err): a sentinel's package prefix is not shown. A 503 carries
// Retry-After, a 405 the Allow header of its *MethodError.
func WriteError(ctx *fasthttp.RequestCtx, err error) int {
	status := StatusOf(err)
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentType(ContentTypeJSON)
	switch status {
	case fasthttp.StatusServiceUnavailable:
		ctx.Response.Header.Set("Retry-After", "1")
	case fasthttp.StatusUnauthorized:
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="switchyard"`)
	case fasthttp.StatusMethodNotAllowed:
		if me, ok := errors.AsType[*MethodError](err); ok {
			ctx.Response.Header.Set("Allow", me.Allow())
		}
	}
	if be, ok := errors.AsType[BodyError](err); ok {
		ctx.Response.SetBodyRaw(be.AppendJSON(nil))
		return status
	}
	ctx.Response.SetBodyRaw(AppendErrorJSON(nil, errtext.Text(err)))
	return status
}
