package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/engine"
)

// FloorBody is the floor's default answer: switchyard's answer, byte for
// byte, to the one-row request Compare sends the small model.
const FloorBody = `{"model_name":"small","model_version":"1","outputs":[{"name":"output","datatype":"FP32","shape":[1,2],"data":[0.74455994,0.25544003]}]}`

// FloorConfig configures ServeFloor.
type FloorConfig struct {
	// Body is the answer to every request. Nil means FloorBody. It must
	// not be modified while the floor runs.
	Body []byte
	// Model, if not nil, is an ONNX model that the floor runs once per
	// request, on one fixed row, before it answers: the floor of a server
	// that calls onnxruntime for every request and does nothing else. Its
	// inputs need a dynamic first dimension and fixed others. engine.Init
	// must have been called.
	Model []byte
	// Engine configures Model's session.
	Engine engine.Config
}

// ServeFloor serves the HTTP floor on ln: a bare fasthttp server that
// answers every request, whatever its method, path or body, with status
// 200, Content-Type application/json and cfg.Body. Nothing switchyard does
// per request happens here, so its throughput and latency bound what any
// fasthttp server on this machine can do; the comparisons measure against
// it. With cfg.Model it also runs the model once per request, through as
// many reused bindings as there are Ps.
//
// ServeFloor returns when ctx is done, after closing ln and every
// connection and answering the requests in flight, or when ln fails or
// the model cannot be loaded.
func ServeFloor(ctx context.Context, ln net.Listener, cfg FloorConfig) error {
	body := cfg.Body
	if body == nil {
		body = []byte(FloorBody)
	}
	var run func() error
	if cfg.Model != nil {
		r, err := newFloorRunner(cfg.Model, cfg.Engine)
		if err != nil {
			ln.Close()
			return err
		}
		defer r.close()
		run = r.run
	}
	srv := &fasthttp.Server{
		Handler: func(rc *fasthttp.RequestCtx) {
			if run != nil {
				if err := run(); err != nil {
					rc.Error(err.Error(), fasthttp.StatusInternalServerError)
					return
				}
			}
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

// floorRunner runs a model for the floor, one row at a time, through a
// fixed set of bindings.
type floorRunner struct {
	sess     *engine.Session
	bindings chan *engine.Binding
}

func newFloorRunner(model []byte, cfg engine.Config) (*floorRunner, error) {
	sess, err := engine.New(model, cfg)
	if err != nil {
		return nil, fmt.Errorf("bench: floor model: %w", err)
	}
	in, err := batchInputs(sess.Signature(), 1, 1)
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("bench: floor model: %w", err)
	}
	shapes := make([][]int64, len(in))
	for i := range in {
		shapes[i] = in[i].Shape
	}
	n := runtime.GOMAXPROCS(0)
	r := &floorRunner{sess: sess, bindings: make(chan *engine.Binding, n)}
	for range n {
		b, err := sess.Bind(shapes)
		if err != nil {
			r.close()
			return nil, fmt.Errorf("bench: floor model: %w", err)
		}
		for i := range in {
			copy(b.In[i].Data, in[i].Data)
		}
		r.bindings <- b
	}
	return r, nil
}

// run runs the model once on a free binding, waiting for one if need be.
func (r *floorRunner) run() error {
	b := <-r.bindings
	err := b.Run()
	r.bindings <- b
	return err
}

// close releases the bindings and the session; no run may be in progress.
func (r *floorRunner) close() {
	for len(r.bindings) > 0 {
		(<-r.bindings).Close()
	}
	r.sess.Close()
}
