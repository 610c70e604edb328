package mlflow

import (
	"context"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/access"
)

// timeout bounds the store calls of one MLflow request.
const timeout = 30 * time.Second

// request is what an endpoint's handler gets: the fasthttp request to read
// and answer, and, as its context.Context, one of its own (a timeout and
// the name of the token the request carried) rather than the
// *fasthttp.RequestCtx's, which fasthttp reuses for the next request while
// a store call's goroutines may still watch it.
type request struct {
	*fasthttp.RequestCtx
	ctx context.Context
}

// newRequest returns ctx's request, whose context ends when the returned
// function is called or after timeout.
func newRequest(ctx *fasthttp.RequestCtx) (*request, context.CancelFunc) {
	c, cancel := context.WithTimeout(access.WithName(context.Background(), access.Name(ctx)), timeout)
	return &request{RequestCtx: ctx, ctx: c}, cancel
}

// Deadline implements context.Context.
func (r *request) Deadline() (time.Time, bool) { return r.ctx.Deadline() }

// Done implements context.Context.
func (r *request) Done() <-chan struct{} { return r.ctx.Done() }

// Err implements context.Context.
func (r *request) Err() error { return r.ctx.Err() }

// Value implements context.Context.
func (r *request) Value(key any) any { return r.ctx.Value(key) }
