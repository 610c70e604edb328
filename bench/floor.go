package bench

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// FloorBody is the floor's default answer: switchyard's answer, byte for
// byte, to the one-row request Compare sends the small model.
const FloorBody = `{"model_name":"small","model_version":"1","outputs":[{"name":"output","datatype":"FP32","shape":[1,2],"data":[0.74455994,0.25544003]}]}`

// ServeFloor serves the HTTP floor on ln: a bare fasthttp server that
// answers every request, whatever its method, path or body, with status
// 200, Content-Type application/json and body. Nothing switchyard does per
// request happens here, so its throughput and latency bound what any
// fasthttp server on this machine can do; the comparisons measure against
// it.
//
// ServeFloor returns when ctx is done, after closing ln and every
// connection and answering the requests in flight, or when ln fails. body
// must not be modified while it runs.
func ServeFloor(ctx context.Context, ln net.Listener, body []byte) error {
	srv := &fasthttp.Server{
		Handler: func(rc *fasthttp.RequestCtx) {
			rc.SetStatusCode(fasthttp.StatusOK)
			rc.SetContentType("application/json")
			rc.Response.SetBodyRaw(body)
		},
		Name:                 "switchyard-floor",
		ReadTimeout:          30 * time.Second,
		WriteTimeout:         30 * time.Second,
		IdleTimeout:          2 * time.Minute,
		NoDefaultContentType: true,
		CloseOnShutdown:      true,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Shutdown closes ln, so Serve returns; in-flight answers are quick.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.ShutdownWithContext(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, net.ErrClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
