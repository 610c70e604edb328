package bench

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// Defaults of Soak.
const (
	// DefaultSoakInterval is how often Soak samples the load and the
	// server.
	DefaultSoakInterval = 5 * time.Second
	// DefaultSoakWarmup is the longest warm-up Soak takes by default; a
	// run shorter than four times it warms up for a quarter of its time.
	DefaultSoakWarmup = time.Minute
	// DefaultSoakConnections is the number of connections of Soak's
	// inference traffic.
	DefaultSoakConnections = 8
	// DefaultSoakRate is the total rate of Soak's inference traffic, in
	// requests per second: a steady load that leaves the cores room for
	// the gates and rollouts that run beside it.
	DefaultSoakRate = 1000
	// DefaultSoakMLflowRate is the MLflow load's log-metric requests per
	// second.
	DefaultSoakMLflowRate = 5
	// DefaultSoakCycleGap is the pause between two lifecycle cycles.
	DefaultSoakCycleGap = 2 * time.Second
	// DefaultSoakBake is each canary step's bake in the policy the soak
	// writes.
	DefaultSoakBake = 2 * time.Second
)

// SoakConfig configures Soak. Duration must be positive; the zero value
// of every other field means the default it names.
type SoakConfig struct {
	// Binary, Dir, ORTLib, Engine, Progress and ChildStderr mean what
	// they mean in RoundsConfig; Binary is started as the server, and
	// Progress gets a line per sample.
	Binary, Dir, ORTLib   string
	Engine                engine.Config
	Progress, ChildStderr io.Writer
	// Duration is how long the traffic runs, warm-up included.
	Duration time.Duration
	// Warmup is the first part of Duration, after which the server's
	// memory and goroutines must stay flat. 0 means DefaultSoakWarmup or a
	// quarter of Duration, whichever is shorter.
	Warmup time.Duration
	// Interval is the time between samples. 0 means DefaultSoakInterval.
	Interval time.Duration
	// Connections is the number of connections of the inference traffic.
	// 0 means DefaultSoakConnections.
	Connections int
	// Rate is the inference traffic's total requests per second. 0 means
	// DefaultSoakRate.
	Rate float64
	// MLflowRate is the MLflow load's log-metric requests per second. 0
	// means DefaultSoakMLflowRate.
	MLflowRate float64
	// CycleGap is the pause between two lifecycle cycles. 0 means
	// DefaultSoakCycleGap.
	CycleGap time.Duration
	// Bake is each canary step's bake. 0 means DefaultSoakBake.
	Bake time.Duration
	// CycleTimeout bounds each wait of a cycle: for a version to be
	// judged, for its rollout to end, for a swap. 0 means
	// DefaultCycleTimeout.
	CycleTimeout time.Duration
}

func (cfg *SoakConfig) setDefaults() error {
	if cfg.Duration <= 0 || cfg.Warmup < 0 || cfg.Interval < 0 || cfg.Connections < 0 || cfg.Rate < 0 || cfg.MLflowRate < 0 ||
		cfg.CycleGap < 0 || cfg.Bake < 0 || cfg.CycleTimeout < 0 {
		return fmt.Errorf("bench: soak: want a positive duration (got %v) and nothing negative", cfg.Duration)
	}
	cfg.Warmup = cmp.Or(cfg.Warmup, min(DefaultSoakWarmup, cfg.Duration/4))
	cfg.Interval = cmp.Or(cfg.Interval, DefaultSoakInterval)
	cfg.Connections = cmp.Or(cfg.Connections, DefaultSoakConnections)
	cfg.Rate = cmp.Or(cfg.Rate, DefaultSoakRate)
	cfg.MLflowRate = cmp.Or(cfg.MLflowRate, DefaultSoakMLflowRate)
	cfg.CycleGap = cmp.Or(cfg.CycleGap, DefaultSoakCycleGap)
	cfg.Bake = cmp.Or(cfg.Bake, DefaultSoakBake)
	cfg.CycleTimeout = cmp.Or(cfg.CycleTimeout, DefaultCycleTimeout)
	if cfg.Warmup >= cfg.Duration {
		return fmt.Errorf("bench: soak: warm-up %v leaves nothing of the duration %v", cfg.Warmup, cfg.Duration)
	}
	rc := cfg.rounds()
	if err := rc.setDefaults("soak"); err != nil {
		return err
	}
	cfg.Binary = rc.Binary
	return nil
}

// rounds returns cfg as the RoundsConfig that makes Soak's stage and
// starts its server.
func (cfg *SoakConfig) rounds() *RoundsConfig {
	return &RoundsConfig{Binary: cfg.Binary, Dir: cfg.Dir, Engine: cfg.Engine, ORTLib: cfg.ORTLib, Progress: cfg.Progress,
		ChildStderr: cfg.ChildStderr, Rounds: 1, Duration: cfg.Duration, Connections: cfg.Connections}
}

// Soak runs sustained, mixed load against one `switchyard serve` (a
// child process on 127.0.0.1) while the lifecycle churns, and reports
// what the server did over time. In a temporary registry it publishes
// Compare's small model with an evaluation set and a policy whose gate
// holds each new version to the stable one and whose rollout starts a
// canary of short steps on every publish, and a second model, called
// soakRecordsModel, with the records schema of RecordsCost. For Duration
// it then sends, at Rate over Connections connections, V2 requests to the
// small model, records requests to the other and deliberately bad
// requests whose status is known (soakKinds); it logs MLflow metrics at
// MLflowRate; and, cycle after cycle, it publishes a new version of the
// small model (a reseeded one every soakFailEvery-th cycle, which its gate
// should fail), lets the gate and the canary run, and every other
// promoted version swaps back through the operations API (churn). Every
// Interval it samples the traffic, the server's resident set size and its
// goroutines. engine.Init must have been called.
//
// The server is stopped before Soak returns, whatever happens. An error
// means the scenario could not be run; unexpected answers and a missed
// goal are reported, not errors.
func Soak(ctx context.Context, cfg SoakConfig) (*SoakReport, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	rep := &SoakReport{Machine: thisMachine(), Duration: cfg.Duration, Warmup: cfg.Warmup, Interval: cfg.Interval,
		Connections: cfg.Connections, Rate: cfg.Rate, MLflowRate: cfg.MLflowRate, Bake: cfg.Bake}
	err := cfg.rounds().onStage("soak", func(st *stage) error {
		registry := st.registry("registry")
		if err := cfg.prepare(st, registry); err != nil {
			return err
		}
		ch, err := st.serveAll(ctx, registry, "--controller-tick", "250ms")
		if err != nil {
			return err
		}
		adm := newAdminClient(ch.addr, SmallModel)
		defer adm.close()
		if err := adm.await(ctx, cfg.CycleTimeout, "version 1 judged", judged(1)); err != nil {
			return err
		}
		r := &soakRun{cfg: &cfg, st: st, registry: registry, rep: rep, start: time.Now(),
			kinds: soakKinds(st.small.body), churn: &soakChurn{cfg: &cfg, adm: adm}}
		for _, k := range r.kinds {
			rep.Kinds = append(rep.Kinds, SoakKind{Name: k.name, Expect: k.status})
		}
		if err := r.run(ctx); err != nil {
			return st.failure(ctx, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.judge()
	return rep, nil
}

// soakEvalRows is the number of rows of the small model's evaluation set:
// enough for the gate to tell a reseeded model from the first, few enough
// that each gate takes a moment.
const soakEvalRows = 2000

// prepare writes the small model's policy and publishes the first
// version of both models into registry.
func (cfg *SoakConfig) prepare(st *stage, registry string) error {
	if err := writeGatePolicy(registry, 1); err != nil {
		return err
	}
	if err := appendPolicy(registry, fmt.Sprintf(`rollout:
  on_publish: canary
  steps: [2500, 10000]
  bake: %s
  min_requests: 50
`, cfg.Bake)); err != nil {
		return err
	}
	if _, err := st.publish(registry, st.small.mlp, modelstore.PublishOptions{EvalCSV: soakEvalSet(st), EvalLabel: "label"}); err != nil {
		return err
	}
	_, err := modelstore.Publish(registry, soakRecordsModel, st.small.mlp.Model().Marshal(), modelstore.PublishOptions{
		Description: "switchyard bench: random MLP with a feature schema", CreatedBy: "switchyard bench",
		Features: recordsFeatures(), Classes: []string{"legit", "fraud"}, Engine: cfg.Engine})
	if err != nil {
		return fmt.Errorf("bench: soak: %w", err)
	}
	return nil
}

// soakEvalSet is the small model's evaluation set, the same for every
// version.
func soakEvalSet(st *stage) []byte { return gateEvalSet(st.small.mlp, soakEvalRows, gateEvalSeed) }

// soakRun is one run of Soak, from the start of its traffic.
type soakRun struct {
	cfg      *SoakConfig
	st       *stage
	registry string
	rep      *SoakReport
	start    time.Time
	kinds    []soakKind
	churn    *soakChurn
	workers  []*soakWorker
	// failures holds the first maxSoakFailures unexpected answers, in the
	// order seen; mu guards it, as the workers add to it.
	mu       sync.Mutex
	failures []SoakFailure
}

// run drives the traffic, the MLflow load, the sampler and the churn for
// Duration and fills in the report's totals, samples and lifecycle.
func (r *soakRun) run(ctx context.Context) error {
	lctx, cancel := context.WithDeadline(ctx, r.start.Add(r.cfg.Duration))
	defer cancel()
	addr := r.st.server.addr
	client := &fasthttp.HostClient{Addr: addr, Name: "switchyard-bench-soak", MaxConns: r.cfg.Connections,
		MaxConnWaitTimeout: DefaultTimeout, MaxIdemponentCallAttempts: 1, ReadTimeout: DefaultTimeout, WriteTimeout: DefaultTimeout}
	defer client.CloseIdleConnections()
	for range r.cfg.Connections {
		s, err := newSleeper()
		if err != nil {
			r.closeSleepers()
			return err
		}
		r.workers = append(r.workers, &soakWorker{win: newSoakWindow(len(r.kinds)), sleeper: s})
	}
	defer r.closeSleepers()
	var wg sync.WaitGroup
	for i, w := range r.workers {
		wg.Go(func() { r.drive(lctx, client, w, i) })
	}
	wg.Go(func() { runMLflowLoad(lctx, addr, r.cfg.MLflowRate, &r.rep.MLflow) })
	samplerErr := make(chan error, 1)
	wg.Go(func() {
		err := r.sample(lctx)
		if err != nil {
			cancel() // the server cannot be watched: end the run
		}
		samplerErr <- err
	})
	churnErr := r.churn.run(lctx, r)
	if churnErr != nil {
		cancel()
	}
	wg.Wait()
	r.rep.Lifecycle = r.churn.life
	r.rep.Failures = r.failures
	r.flush()
	if err := errors.Join(churnErr, <-samplerErr); err != nil && ctx.Err() == nil {
		return err
	}
	return ctx.Err()
}

// closeSleepers closes the workers' sleepers.
func (r *soakRun) closeSleepers() {
	for _, w := range r.workers {
		w.sleeper.close()
	}
}

// since returns the seconds from the start of the traffic to t.
func (r *soakRun) since(t time.Time) float64 { return t.Sub(r.start).Seconds() }

// sample takes a sample every Interval until ctx is done, and merges what
// the workers recorded into the totals.
func (r *soakRun) sample(ctx context.Context) error {
	hc := &fasthttp.HostClient{Addr: r.st.server.addr, Name: "switchyard-bench-soak-metrics", MaxConns: 1,
		MaxIdemponentCallAttempts: 1, ReadTimeout: DefaultTimeout, WriteTimeout: DefaultTimeout}
	defer hc.CloseIdleConnections()
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	last := r.start
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-tick.C:
			s, err := r.sampleAt(hc, last, now)
			if err != nil {
				return fmt.Errorf("bench: soak: sample at %.0fs: %w", r.since(now), err)
			}
			r.rep.Samples = append(r.rep.Samples, s)
			r.progress(&s)
			last = now
		}
	}
}

// sampleAt summarises the workers' windows since last, which it empties,
// and reads the server's resident set size and goroutines. It fails only
// if the server's process cannot be read.
func (r *soakRun) sampleAt(hc *fasthttp.HostClient, last, now time.Time) (SoakSample, error) {
	s := SoakSample{At: r.since(now), Warm: now.Sub(r.start) > r.cfg.Warmup}
	var lat []time.Duration
	for _, w := range r.workers {
		win := w.take(len(r.kinds))
		lat = append(lat, win.lat...)
		for _, c := range win.kinds {
			s.Requests += c.requests
			s.Unexpected += c.unexpectedCount()
		}
		r.rep.add(win)
	}
	l := summarize(lat)
	s.P50, s.P99 = l.P50, l.P99
	s.RequestsPerSec = float64(s.Requests) / now.Sub(last).Seconds()
	var err error
	if s.RSS, err = processRSS(r.st.server.cmd.Process.Pid); err != nil {
		return s, err
	}
	// A failed scrape is the server's fault, not the harness's: it is
	// reported, and the sample has no goroutines.
	if s.Goroutines, err = scrapeGoroutines(hc, r.st.server.addr); err != nil {
		r.rep.MetricsErrors++
		r.rep.MetricsError = cmp.Or(r.rep.MetricsError, err.Error())
	}
	return s, nil
}

// progress writes a sample's line to Progress, if set.
func (r *soakRun) progress(s *SoakSample) {
	r.st.cfg.progress("%6.0fs %8.0f req/s  p50 %9s  p99 %9s  unexpected %d  RSS %s  goroutines %d  versions %d\n",
		s.At, s.RequestsPerSec, formatDuration(s.P50), formatDuration(s.P99), s.Unexpected, formatBytes(s.RSS), s.Goroutines,
		r.churn.published.Load())
}

// scrapeGoroutines reads go_goroutines from the server's /metrics.
func scrapeGoroutines(hc *fasthttp.HostClient, addr string) (int, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + "/metrics")
	if err := hc.Do(req, resp); err != nil {
		return 0, fmt.Errorf("GET /metrics: %w", err)
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		return 0, fmt.Errorf("GET /metrics: status %d", resp.StatusCode())
	}
	for line := range bytes.Lines(resp.Body()) {
		if rest, ok := bytes.CutPrefix(line, []byte("go_goroutines ")); ok {
			n, err := strconv.ParseFloat(string(bytes.TrimSpace(rest)), 64)
			if err != nil {
				return 0, fmt.Errorf("GET /metrics: go_goroutines: %w", err)
			}
			return int(n), nil
		}
	}
	return 0, errors.New("GET /metrics: no go_goroutines")
}

// flush merges into the report what the workers recorded since the last
// sample.
func (r *soakRun) flush() {
	for _, w := range r.workers {
		r.rep.add(w.take(len(r.kinds)))
	}
}
