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

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/card"
	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/server/admin"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/server/mlflow"
	"github.com/switchyard-ml/switchyard/tracking"
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
	// MaxArtifactBytes is the largest file an upload to MLflow's artifact
	// proxy may store; a longer upload gets 413 as soon as its length is
	// known and leaves nothing behind. Uploads are written to disk as they
	// arrive, not held in memory, so MaxRequestBodySize does not apply to
	// them. 0 means mlflow.DefaultMaxArtifactBytes (2 GiB).
	MaxArtifactBytes int64
	// AllowSourceRoots are the directories under which MLflow's
	// model-versions/create may read a local source (an absolute path or
	// a file:// URI), through an os.Root so that neither ".." nor a
	// symlink leads out. Empty refuses every local source; runs:/ and
	// mlflow-artifacts:/ sources are read from Artifacts whatever it
	// holds.
	AllowSourceRoots []string
	// MaxModelBytes is the largest model model-versions/create reads, from
	// a local source or the artifact store. 0 means
	// modelstore.DefaultMaxModelBytes (2 GiB).
	MaxModelBytes int64
	// ReadTimeout bounds reading one request, headers and body. 0 means 30s.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response. 0 means 30s.
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long. 0 means 2m.
	IdleTimeout time.Duration
	// StrictReadiness makes the server unready while any model with a
	// version loading, ready or failed has none serving (one unloaded on
	// purpose does not count). By default a model that cannot serve does
	// not take the replica out of its load balancer.
	StrictReadiness bool
	// LoadTimeout bounds how long POST /v2/repository/models/{m}/load and
	// /unload wait for the model to settle. 0 means 5 minutes.
	LoadTimeout time.Duration
	// Tracking serves MLflow's tracking API under /api/2.0/mlflow/. Nil
	// answers those paths with 503 TEMPORARILY_UNAVAILABLE.
	Tracking mlflow.Tracking
	// Registry serves MLflow's model registry over the registry directory
	// RegistryDir; nil answers 503 on those paths. PublishEngine
	// configures the session that checks a model before it is published.
	Registry      mlflow.ModelRegistry
	RegistryDir   string
	PublishEngine engine.Config
	// Artifacts serves MLflow's artifact proxy under
	// /api/2.0/mlflow-artifacts/artifacts; nil answers 503 there.
	Artifacts mlflow.ArtifactStore
	// Ops carries out every change to what serves that the operations
	// and MLflow APIs ask for: promote, rollback, pause, resume, alias
	// moves, publishes and deletions. Nil answers those endpoints with
	// 503.
	Ops *ops.Service
	// Admin gives the operations API under /admin its audit trail, runs
	// and lineage. Nil answers /admin/audit and /admin/runs with 503;
	// /admin/models then reports lineage from the manifests alone.
	Admin admin.Store
	// Access decides which endpoints need a bearer token, and which
	// tokens there are (see package access). Nil leaves every endpoint
	// open. A token's name is kept on the request's context for the audit
	// trail (access.Name).
	Access *access.Policy
	// Cards gives the model cards of GET /v1/models/{m}/versions/{v}/card
	// their gate verdicts, runs and audit trail (a *tracking.Store); nil
	// makes them from the registry and the verdicts in memory alone, and
	// each card says what is missing.
	Cards card.Store
	// Analyses gives the operations API the rollout controller's latest
	// analysis of each model; nil shows none.
	Analyses admin.Analyses
	// Drift, when set, receives a sample of the answered requests' rows
	// and scores (see offerDrift) and serves GET /admin/models/{m}/drift;
	// nil monitors nothing and answers that endpoint with 503.
	Drift *drift.Monitor
	// PredictionLog, when set, receives a sample of the answered
	// predictions (see offerLog); nil logs none. With Drift set as well,
	// New makes the server the log's follower (tracking's Follow): the
	// monitor is offered what the log wrote.
	PredictionLog *tracking.PredictionLog
	// Feedback joins labels to logged predictions for POST /v1/feedback;
	// nil answers that endpoint with 503.
	Feedback Feedback
	// Labels, when set, shares the labels feedback joined with the other
	// replicas of a fleet: POST /v1/feedback answers once they are
	// committed here and stored by the stream. Nil keeps them here.
	Labels LabelStream
	// Quality, when set, receives the predictions whose label feedback
	// joined, and shows each version's live quality in
	// GET /admin/models/{m}; nil measures nothing.
	Quality Quality
	// ShadowQueue bounds the requests waiting for a shadow version; past
	// it copies are dropped and counted. 0 means DefaultShadowQueue.
	ShadowQueue int
	// HistoryInterval is how often the server samples each version's
	// requests per second, error rate and latency for GET /admin/history
	// and the status page, which keep the last 150 samples (five minutes
	// at the default). 0 means DefaultHistoryInterval.
	HistoryInterval time.Duration
	// Logger receives server events. Nil means slog.Default().
	Logger *slog.Logger
}

// Models is what the server needs of the model lifecycle. The Store of
// package modelstore implements it; tests pass the real one.
type Models interface {
	// Table returns the live routing table; the server reads it once per
	// request.
	Table() *rollout.Table[*modelstore.Version]
	// Lookup explains, with an error wrapping modelstore.ErrNotFound or
	// ErrNotReady, why the table routes nothing to a model or version.
	Lookup(model string, version int) (*modelstore.Version, error)
	// Model and Models are snapshots of the models and their versions.
	Model(name string) *modelstore.Model
	Models() []*modelstore.Model
	// Load and Unload serve the repository API.
	Load(ctx context.Context, name string) error
	Unload(ctx context.Context, name string) error
	// Subscribe delivers lifecycle events, for the metrics cleanup.
	Subscribe(buffer int) *modelstore.Subscription
}

// Server answers HTTP requests for the models of a Models.
type Server struct {
	models Models
	cfg    Config
	// router routes every request, through the endpoint tables of the
	// root API, the MLflow API and the operations API.
	router *httpapi.Router
	// document returns /openapi.json, built from the tables once.
	document func() ([]byte, error)
	log      *slog.Logger
	http     *fasthttp.Server
	metrics  *metrics
	promh    fasthttp.RequestHandler
	// scratch pools *scratch values for infer.
	scratch sync.Pool
	// bodyReads pools *bodyRead buffers for readBody.
	bodyReads sync.Pool
	// shadowJobs holds copies of requests for shadow versions; the
	// shadow worker started by Serve drains it.
	shadowJobs chan *shadowJob
	// draining is set by Drain and Shutdown: readiness checks fail from
	// then on, and answers close their connections.
	draining atomic.Bool
	// ids hands out the prediction ids of V2 and records answers.
	ids *predictionIDs
	// history is each version's recent traffic, sampled every
	// historyEvery by the one sampler Serve runs (sampling is set while
	// it runs, so that a second Serve starts none).
	history      *history
	historyEvery time.Duration
	sampling     atomic.Bool
	// listeners are those Serve was given, and shut is set by Shutdown,
	// both under lnMu: fasthttp's Shutdown closes only the listeners its
	// Serve has registered, so one given to Serve just before Shutdown
	// would otherwise be accepted on forever.
	lnMu      sync.Mutex
	listeners []net.Listener
	shut      bool
}

// New builds a Server over models. Its metrics are registered with reg and
// served, with whatever else reg gathers, at /metrics.
func New(cfg Config, models Models, reg *prometheus.Registry) (*Server, error) {
	if models == nil || reg == nil {
		return nil, errors.New("server: models and a registry are required")
	}
	if cfg.MaxRequestBodySize < 0 {
		return nil, fmt.Errorf("server: negative MaxRequestBodySize %d", cfg.MaxRequestBodySize)
	}
	if cfg.MaxRequestBodySize == 0 {
		cfg.MaxRequestBodySize = DefaultMaxRequestBodySize
	}
	if cfg.MaxArtifactBytes < 0 {
		return nil, fmt.Errorf("server: negative MaxArtifactBytes %d", cfg.MaxArtifactBytes)
	}
	if cfg.ShadowQueue <= 0 {
		cfg.ShadowQueue = DefaultShadowQueue
	}
	if cfg.LoadTimeout <= 0 {
		cfg.LoadTimeout = 5 * time.Minute
	}
	if cfg.HistoryInterval < 0 {
		return nil, fmt.Errorf("server: negative HistoryInterval %v", cfg.HistoryInterval)
	}
	s := &Server{shadowJobs: make(chan *shadowJob, cfg.ShadowQueue), models: models, cfg: cfg, log: cfg.Logger,
		ids: newPredictionIDs(), history: newHistory(historyPoints), historyEvery: orDefault(cfg.HistoryInterval, DefaultHistoryInterval)}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.bodyReads.New = newBodyRead
	if cfg.PredictionLog != nil && cfg.Drift != nil {
		// A request the log takes leaves its drift sample to the log's
		// writer (offerDrift).
		cfg.PredictionLog.Follow(s.offerLoggedDrift)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.promh = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mcfg := mlflow.Config{Tracking: cfg.Tracking, Registry: cfg.Registry, RegistryDir: cfg.RegistryDir,
		PublishEngine: cfg.PublishEngine, Artifacts: cfg.Artifacts, Logger: s.log,
		MaxArtifactBytes: cfg.MaxArtifactBytes, UploadReadTimeout: orDefault(cfg.ReadTimeout, 30*time.Second),
		AllowSourceRoots: cfg.AllowSourceRoots, MaxModelBytes: cfg.MaxModelBytes, Models: models}
	acfg := admin.Config{Models: models, Store: cfg.Admin, Analyses: cfg.Analyses, Logger: s.log}
	if cfg.Drift != nil { // a nil *drift.Monitor is not a nil interface
		acfg.Drift = cfg.Drift
	}
	if cfg.Quality != nil {
		acfg.Quality = cfg.Quality
	}
	if cfg.Ops != nil { // a nil *ops.Service is not a nil interface
		mcfg.Ops, acfg.Ops = cfg.Ops, cfg.Ops
	}
	ml, ad := mlflow.New(mcfg), admin.New(acfg)
	router, err := httpapi.NewRouter(s.api(), ad.API(), ml.API())
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.router = router
	s.document = sync.OnceValues(func() ([]byte, error) { return documentJSON(router.APIs()) })
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

		// Bodies are streamed, for the artifact uploads; body.go holds
		// every other endpoint to MaxRequestBodySize. fasthttp would read
		// a streamed multipart form whole, without a limit.
		StreamRequestBody:            true,
		HeaderReceived:               s.headerReceived,
		ExpectHandler:                s.expectContinue,
		DisablePreParseMultipartForm: true,
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
// Shutdown and the listener's error otherwise. While it runs, a goroutine
// of its own drops the metrics of versions that leave memory, another
// answers the copies of requests meant for shadow versions, and, in the
// first of concurrent Serves, another samples each version's traffic
// for the status page (sampleHistory).
func (s *Server) Serve(ln net.Listener) error {
	s.lnMu.Lock()
	if s.shut {
		s.lnMu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners = append(s.listeners, ln)
	s.lnMu.Unlock()
	sub := s.models.Subscribe(eventBuffer)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range sub.C {
			if e.To == modelstore.Unloaded || e.To == modelstore.Failed {
				s.metrics.forget(e.Model, e.Version)
			}
		}
	}()
	shadowDone, shadowStop := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(shadowDone)
		s.runShadows(shadowStop)
	}()
	defer func() {
		sub.Close()
		<-done
		close(shadowStop)
		<-shadowDone
	}()
	if s.sampling.CompareAndSwap(false, true) {
		historyDone, historyStop := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(historyDone)
			s.sampleHistory(historyStop)
		}()
		defer func() {
			close(historyStop)
			<-historyDone
			s.sampling.Store(false)
		}()
	}
	err := s.http.Serve(ln)
	s.lnMu.Lock()
	shut := s.shut
	s.lnMu.Unlock()
	if shut && errors.Is(err, net.ErrClosed) { // closed by Shutdown, below
		return nil
	}
	return err
}

// eventBuffer is the lifecycle events the metrics cleanup may fall behind
// by; past it events are dropped (and counted by modelstore), and the
// series of a dropped version stay until it is loaded again.
const eventBuffer = 256

// Shutdown makes readiness checks fail, stops accepting connections and
// waits until requests in flight have been answered or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.lnMu.Lock()
	s.shut = true
	lns := s.listeners
	s.lnMu.Unlock()
	err := s.http.ShutdownWithContext(ctx)
	for _, ln := range lns {
		ln.Close() // already closed, unless Serve had not registered it with fasthttp yet
	}
	return err
}

// handleTransportError answers requests fasthttp could not read, such as
// headers past the read buffer or a body over the size limit, in the same
// JSON form as every other error (see transportError).
func (s *Server) handleTransportError(ctx *fasthttp.RequestCtx, err error) {
	status := httpapi.WriteError(ctx, transportError(err, s.http.MaxRequestBodySize, s.http.ReadBufferSize))
	s.metrics.observe(nil, status, 0)
}

// fasthttpLogger sends fasthttp's own messages (mostly connections that
// broke mid-request) to slog at debug level.
type fasthttpLogger struct{ log *slog.Logger }

// Printf implements fasthttp.Logger.
func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "source", "fasthttp")
}
