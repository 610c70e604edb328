package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/lead"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/quality"
	"github.com/switchyard-ml/switchyard/respcache"
	"github.com/switchyard-ml/switchyard/retrain"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/server"
	"github.com/switchyard-ml/switchyard/server/mlflow"
	"github.com/switchyard-ml/switchyard/stream"
	"github.com/switchyard-ml/switchyard/tracking"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "[flags]", stderr)
	registry := fs.String("registry", "registry", "registry directory")
	addr := fs.String("addr", "localhost:8080", "address to listen on; :8080 for every interface (then configure tokens)")
	maxBody := fs.Int("max-body-bytes", server.DefaultMaxRequestBodySize, "largest request body accepted (413 beyond)")
	drainDelay := fs.Duration("drain-delay", 5*time.Second, "on SIGTERM, how long to keep serving with readiness off and keep-alive connections closing, for the load balancer to take the replica out, before the listener closes")
	drainTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "on SIGTERM, how long to wait for requests in flight once the listener closes")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	var ef engineFlags
	ef.register(fs)
	var batching modelstore.Batching
	fs.IntVar(&batching.MaxBatchSize, "max-batch-size", batcher.DefaultMaxBatchSize, "most rows batched together from concurrent requests; 1 turns batching off")
	fs.DurationVar(&batching.MaxQueueDelay, "max-queue-delay", 0, "how long a batch may wait for more rows (0: run what is queued at once)")
	fs.IntVar(&batching.Executors, "executors", 0, "batches of one model version that may run at once (0: one per CPU)")
	fs.IntVar(&batching.MaxQueueSize, "max-queue-size", batcher.DefaultMaxQueueSize, "rows that may wait per model version before requests get 503")
	fs.DurationVar(&batching.Timeout, "request-timeout", 0, "default deadline for a request to start running (0: none); 504 past it")
	rescan := fs.Duration("rescan-interval", modelstore.DefaultRescanInterval, "how often to rescan the whole registry besides watching it (0: never)")
	var rf rolloutFlags
	rf.register(fs)
	keepPrevious := fs.Int("keep-previous", modelstore.DefaultKeepPrevious, "ready versions below the serving one kept loaded for an instant rollback")
	maxModel := byteSize(modelstore.DefaultMaxModelBytes)
	fs.Var(&maxModel, "max-model-bytes", "refuse a model.onnx larger than this `SIZE` (such as 4GiB), whether it is loaded from the registry or published through MLflow")
	var sourceRoots []string
	maxArtifact := byteSize(mlflow.DefaultMaxArtifactBytes)
	fs.Var(&maxArtifact, "max-artifact-bytes", "refuse an artifact upload larger than this `SIZE` (413); uploads stream to disk, so this is not bounded by --max-body-bytes")
	fs.Func("allow-source-root", "a `DIR` under which MLflow's model-versions/create may read a local source (repeatable; none: local sources are refused)", func(dir string) error {
		if dir == "" {
			return errors.New("an empty directory allows nothing")
		}
		abs, err := filepath.Abs(dir)
		sourceRoots = append(sourceRoots, abs)
		return err
	})
	var budget byteSize
	fs.Var(&budget, "memory-budget", "resident memory loaded versions may take, such as 2GiB or 512MiB (0: unlimited); a version that would not fit fails")
	dataDir := fs.String("data-dir", "", "tracking database and artifacts (default REGISTRY/.switchyard)")
	noTracking := fs.Bool("no-tracking", false, "open no tracking store: the MLflow API answers 503 (to measure what tracking costs)")
	trackingDSN := fs.String("tracking-dsn", os.Getenv(envTrackingDSN), "a PostgreSQL `URL` (postgres://USER@HOST/DB) holding the tracking store, which replicas share, in place of DATA_DIR/tracking.db; the prediction log and artifacts stay in the data directory (default $"+envTrackingDSN+", which the other verbs read too)")
	tokensFile := fs.String("tokens", "", "a `FILE` of bearer tokens, a line each: NAME ROLE SECRET, ROLE infer, read or write (also $SWITCHYARD_TOKENS, and $SWITCHYARD_ADMIN_TOKEN as the write token admin)")
	auth := fs.String("auth", "", "the endpoint classes that need a token, such as read,write or infer,read,write (default write once tokens are configured)")
	tick := fs.Duration("controller-tick", time.Second, "how often the rollout controller judges every rollout")
	strict := fs.Bool("strict-readiness", false, "report not ready while any model on disk has no serving version, even one whose every version failed")
	predLog := fs.Bool("prediction-log", true, "log answered predictions (each model's policy.yaml log block: share, retention) beside the tracking store, for POST /v1/feedback to join labels to and switchyard export to read")
	driftOn := fs.Bool("drift", true, "run the drift monitor: sample each version's inputs and scores and judge them against its profile.json")
	price := fs.Float64("cost-per-core-hour", 0, "price of a core-hour of compute in `DOLLARS`, for each version's dollars per 1,000 predictions (a model's policy.yaml cost.per_core_hour wins; 0: none)")
	streamURL := fs.String("stream", os.Getenv(envStream), "share the prediction log and feedback with a fleet of replicas through NATS JetStream at this `URL` (nats://host:port); each replica needs its own --data-dir (default $"+envStream+")")
	webhook := fs.String("alert-webhook", "", "a `URL` that receives each drift alert as a JSON POST (timeout 5s, 3 retries with backoff)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *rescan == 0 {
		*rescan = -1 // the flag's 0 means never; Config's means the default
	}
	if *keepPrevious == 0 {
		*keepPrevious = -1
	}
	if *price < 0 || math.IsInf(*price, 0) || math.IsNaN(*price) {
		return usageError(fs, "--cost-per-core-hour %v: want dollars, 0 or more", *price)
	}
	if *noTracking && isSet(fs, "tracking-dsn") {
		return usageError(fs, "--tracking-dsn names the tracking store, which --no-tracking turns off")
	}
	if *webhook != "" && !*driftOn {
		return usageError(fs, "--alert-webhook needs the drift monitor, which --drift=false turns off")
	}
	if *webhook != "" {
		if err := drift.CheckWebhook(*webhook); err != nil {
			return usageError(fs, "--alert-webhook: %v", err)
		}
	}
	if *streamURL != "" {
		if err := stream.CheckURL(*streamURL); err != nil {
			return usageError(fs, "--stream: %v", err)
		}
	}
	rolloutDefaults, err := rf.policy()
	if err != nil {
		fmt.Fprintln(stderr, "switchyard serve:", err)
		return errUsage
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	if err := ef.init(); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	bm, err := batcher.NewMetrics(reg)
	if err != nil {
		return err
	}
	sm, err := modelstore.NewMetrics(reg)
	if err != nil {
		return err
	}
	// The sampler that shares the process's CPU time out to the versions
	// by their requests; it ends when serve returns.
	shareCtx, stopShare := context.WithCancel(context.Background())
	var shareDone sync.WaitGroup
	shareDone.Go(func() { bm.ShareCPU(shareCtx, batcher.DefaultShareInterval) })
	defer func() { stopShare(); shareDone.Wait() }()
	cm, err := respcache.NewMetrics(reg)
	if err != nil {
		return err
	}
	if _, err := os.ReadDir(*registry); err != nil {
		return fmt.Errorf("registry: %w", err) // before the data directory inside it is made
	}
	policy, err := accessPolicy(*tokensFile, *auth)
	if err != nil {
		return err
	}
	if *dataDir == "" {
		*dataDir = filepath.Join(*registry, ".switchyard")
	}
	scfg := server.Config{MaxRequestBodySize: *maxBody, StrictReadiness: *strict, Access: policy, Logger: log}
	decisions, err := rollout.NewDecisionsCounter(reg)
	if err != nil {
		return err
	}
	measures, err := rollout.NewMeasuresGauge(reg)
	if err != nil {
		return err
	}
	ccfg := rollout.ControllerConfig{Tick: *tick, Decisions: decisions, Measures: measures, Logger: log}
	var (
		tr        *tracking.Store
		lifecycle ops.Auditor
	)
	scfg.RegistryDir, scfg.PublishEngine = *registry, ef.cfg
	scfg.AllowSourceRoots, scfg.MaxModelBytes, scfg.MaxArtifactBytes = sourceRoots, int64(maxModel), int64(maxArtifact)
	mcfg := modelstore.Config{
		Dir:             *registry,
		Engine:          ef.cfg,
		Batching:        batching,
		KeepPrevious:    *keepPrevious,
		Rollout:         rolloutDefaults,
		MemoryBudget:    int64(budget),
		MaxModelBytes:   int64(maxModel),
		RescanInterval:  *rescan,
		CostPerCoreHour: *price,
		Metrics:         sm,
		BatchMetrics:    bm,
		CacheMetrics:    cm,
		Logger:          log,
	}
	if !*noTracking {
		if tr, err = openTrackingStore(ctx, *trackingDSN, *dataDir, tracking.Config{Logger: log}); err != nil {
			return err
		}
		defer tr.Close()
		arts, err := tracking.OpenArtifacts(filepath.Join(*dataDir, "artifacts"))
		if err != nil {
			return err
		}
		defer arts.Close()
		scfg.Tracking, scfg.Registry, scfg.Artifacts, scfg.Admin, scfg.Cards = tr, tr, arts, tr, tr
		trail := ops.NewTrail(tr)
		lifecycle = tr
		ccfg.Auditor = trail
		mcfg.Auditor, mcfg.PendingWrites, mcfg.Verdicts = trail, trail, trail
		scfg.Feedback = tr
	}
	// With a shared database, one replica leads: only its rollout
	// controller and retrain trigger act. Its goroutine ends after
	// theirs, which claim each decision from it.
	var leadership *lead.Leader
	if tr != nil && *trackingDSN != "" {
		if leadership, err = lead.New(lead.Config{DSN: *trackingDSN, Logger: log}, reg); err != nil {
			return err
		}
		leadCtx, stopLead := context.WithCancel(context.Background())
		var leadDone sync.WaitGroup
		leadDone.Go(func() { leadership.Run(leadCtx) })
		defer func() {
			stopLead()
			leadDone.Wait()
			leadership.Close()
		}()
		ccfg.Leadership = leadership
	}
	// The retraining runner, with the tracking store: drift and quality
	// alarms fire it, and its commands end before the store closes.
	var retrainer *retrain.Runner
	if tr != nil {
		var stopRetrainer func()
		if retrainer, stopRetrainer, err = startRetrainer(*registry, *dataDir, tr, leadership, log, reg); err != nil {
			return err
		}
		defer stopRetrainer()
	}
	if *predLog && tr == nil {
		if isSet(fs, "prediction-log") {
			return usageError(fs, "--prediction-log writes beside the tracking store, which --no-tracking turns off")
		}
		*predLog = false
	}
	if *streamURL != "" && !*predLog {
		return usageError(fs, "--stream shares the prediction log, which --no-tracking or --prediction-log=false turns off")
	}
	// The fleet's stream: its publisher ends after the log's writer, whose
	// last batches it publishes; its consumer starts once the server
	// exists, below.
	var fleet *fleetStream
	if *streamURL != "" {
		if fleet, err = openStream(ctx, *streamURL, *dataDir, tr, log, reg); err != nil {
			return err
		}
		defer fleet.close()
		scfg.Labels = fleet.conn
	}
	// The live quality monitor, on with the prediction log: fed by the
	// log's writer (OnWrite) and by POST /v1/feedback, read by the rollout
	// controller (live accuracy) and GET /admin/models/{m}. Its goroutine
	// starts once the model store is open, below.
	var (
		qmon      *quality.Monitor
		qversions *qualityVersions
	)
	if *predLog {
		if qmon, qversions, err = newQualityMonitor(tr, retrainOnQuality(retrainer), log, reg); err != nil {
			return err
		}
		scfg.Quality, ccfg.Accuracy = qmon, qmon
	}
	if *predLog {
		lcfg := tracking.LogConfig{Logger: log, Policy: func(model string) (tracking.LogPolicy, error) {
			p, err := modelstore.ReadPolicy(filepath.Join(*registry, model, modelstore.PolicyFile))
			if errors.Is(err, os.ErrNotExist) {
				return tracking.DefaultLogPolicy(), nil
			}
			if err != nil {
				return tracking.LogPolicy{}, err
			}
			return p.Log.Apply(tracking.DefaultLogPolicy()), nil
		}}
		lcfg.OnWrite = qmon.Predicted // the live quality monitor's feed
		if fleet != nil {
			lcfg.OnBatch = fleet.conn.Offer
		}
		if scfg.PredictionLog, err = tracking.NewPredictionLog(tr, lcfg, reg); err != nil {
			return err
		}
		// The log's writer ends, once what is queued is committed, after
		// the listener has stopped and before the tracking store closes.
		logCtx, stopLog := context.WithCancel(context.Background())
		var logDone sync.WaitGroup
		logDone.Go(func() { scfg.PredictionLog.Run(logCtx) })
		defer func() { stopLog(); logDone.Wait() }()
	}
	if *driftOn {
		dcfg := drift.Config{Webhook: *webhook, Logger: log}
		if tr != nil { // a nil *tracking.Store is not a nil interface
			dcfg.Auditor, dcfg.OnAlert = tr, retrainOnDrift(retrainer)
		}
		if scfg.Drift, err = drift.New(dcfg, reg); err != nil {
			return err
		}
		// The monitor's goroutine ends before the tracking store closes.
		driftCtx, stopDrift := context.WithCancel(context.Background())
		var driftDone sync.WaitGroup
		driftDone.Go(func() { scfg.Drift.Run(driftCtx) })
		defer func() {
			stopDrift()
			driftDone.Wait()
		}()
	}
	store, err := modelstore.Open(ctx, mcfg)
	if err != nil {
		return err
	}
	ocfg := ops.Config{Registry: *registry, Models: store, Logger: log}
	if tr != nil { // a nil *tracking.Store is not a nil interface
		ocfg.Tracking = tr
	}
	if scfg.Ops, err = ops.New(ocfg); err != nil {
		store.Close()
		return err
	}
	// The store's event subscribers end once Close has delivered the
	// events of the shutdown, and before the tracking store closes.
	var subscribers sync.WaitGroup
	defer func() {
		store.Close()
		subscribers.Wait()
	}()
	if lifecycle != nil {
		sub := store.Subscribe(ops.LifecycleBuffer)
		subscribers.Go(func() { ops.AuditLifecycle(context.Background(), sub, lifecycle, log) })
	}
	// The live quality monitor's goroutine ends before the store and the
	// tracking store close; it describes the store's versions from now.
	if qmon != nil {
		qversions.describe(store)
		qualityCtx, stopQuality := context.WithCancel(context.Background())
		var qualityDone sync.WaitGroup
		qualityDone.Go(func() { qmon.Run(qualityCtx) })
		defer func() {
			stopQuality()
			qualityDone.Wait()
		}()
	}

	// The rollout controller: its goroutine ends with ctrlCtx, before the
	// store and the tracking store close. A version becoming Ready or
	// Failed wakes it at once; its tick is the backstop.
	ctrl := rollout.NewController(store, ccfg)
	wake := store.Subscribe(ops.LifecycleBuffer)
	subscribers.Go(func() { ops.WakeOnLifecycle(context.Background(), wake, ctrl.Wake) })
	scfg.Analyses = ctrl
	ctrlCtx, stopCtrl := context.WithCancel(context.Background())
	ctrlDone := make(chan struct{})
	go func() {
		defer close(ctrlDone)
		ctrl.Run(ctrlCtx)
	}()
	defer func() {
		stopCtrl()
		<-ctrlDone
	}()

	srv, err := server.New(scfg, store, reg)
	if err != nil {
		return err
	}
	if fleet != nil { // ends before the monitors and the stores it feeds
		fleet.consume(qmon, srv)
		defer fleet.stopConsumer()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	warnIfExposed(log, ln, policy)
	log.Info("serving", "addr", ln.Addr().String(), "registry", *registry, "models", len(store.Models()))
	fmt.Fprintf(stdout, "switchyard listening on %s\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("draining: readiness off, keep-alive connections closing", "drain_delay", drainDelay.String())
	srv.Drain()
	select {
	case err := <-errc:
		return err
	case <-time.After(*drainDelay):
	}
	log.Info("shutting down: listener closed, finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), *drainTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
