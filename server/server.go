package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// Version is switchyard's release, reported by GET /v2.
const Version = "0.1.0"

// DefaultMaxRequestBodySize is the request body limit when Config leaves
// it zero.
const DefaultMaxRequestBodySize = 16 << 20

// Config configures a Server. The zero value serves with sensible limits.
type Config struct {
	// MaxRequestBodySize is the largest request body accepted; larger ones
	// get 413. 0 means DefaultMaxRequestBodySize.
	MaxRequestBodySize int
	// ReadTimeout bounds reading one request, headers and body. 0 means 30s.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response. 0 means 30s.
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long. 0 means 2m.
	IdleTimeout time.Duration
	// Logger receives server events. Nil means slog.Default().
	Logger *slog.Logger
}

// Server answers HTTP requests for the models of a modelstore.Store.
type Server struct {
	store   *modelstore.Store
	log     *slog.Logger
	http    *fasthttp.Server
	metrics *metrics
	promh   fasthttp.RequestHandler
	// scratch pools *scratch values for infer.
	scratch sync.Pool
	// draining is set by Shutdown: readiness checks fail from then on.
	draining atomic.Bool
}

// New builds a Server over store. Its metrics are registered with reg and
// served, with whatever else reg gathers, at /metrics.
func New(cfg Config, store *modelstore.Store, reg *prometheus.Registry) (*Server, error) {
	if store == nil || reg == nil {
		return nil, errors.New("server: a store and a registry are required")
	}
	if cfg.MaxRequestBodySize < 0 {
		return nil, fmt.Errorf("server: negative MaxRequestBodySize %d", cfg.MaxRequestBodySize)
	}
	if cfg.MaxRequestBodySize == 0 {
		cfg.MaxRequestBodySize = DefaultMaxRequestBodySize
	}
	s := &Server{store: store, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.promh = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s.http = &fasthttp.Server{
		Handler:              s.handle,
		ErrorHandler:         s.handleTransportError,
		Name:                 "switchyard",
		MaxRequestBodySize:   cfg.MaxRequestBodySize,
		ReadTimeout:          orDefault(cfg.ReadTimeout, 30*time.Second),
		WriteTimeout:         orDefault(cfg.WriteTimeout, 30*time.Second),
		IdleTimeout:          orDefault(cfg.IdleTimeout, 2*time.Minute),
		NoDefaultContentType: true,
		CloseOnShutdown:      true,
		Logger:               fasthttpLogger{s.log},
	}
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Serve accepts connections on ln until Shutdown. It returns nil after a
// Shutdown and the listener's error otherwise.
func (s *Server) Serve(ln net.Listener) error { return s.http.Serve(ln) }

// Shutdown makes readiness checks fail, stops accepting connections and
// waits until requests in flight have been answered or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	return s.http.ShutdownWithContext(ctx)
}

// handleTransportError answers requests fasthttp could not read, such as a
// body over the size limit, in the same JSON form as every other error.
func (s *Server) handleTransportError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		err = fmt.Errorf("request body exceeds the limit of %d bytes: %w", s.http.MaxRequestBodySize, err)
	} else {
		err = &requestError{msg: "cannot read request: " + err.Error()}
	}
	status := writeError(ctx, err)
	s.metrics.observe(nil, status, 0)
}

// fasthttpLogger sends fasthttp's own messages (mostly connections that
// broke mid-request) to slog at debug level.
type fasthttpLogger struct{ log *slog.Logger }

// Printf implements fasthttp.Logger.
func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "source", "fasthttp")
}
