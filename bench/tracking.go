package bench

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// Defaults and target of TrackingCost.
const (
	// DefaultMLflowRate is the MLflow load's total rate of log-metric
	// requests, per second.
	DefaultMLflowRate = 50
	// MLflowRuns is the number of runs the MLflow load creates and then
	// logs metrics to, in turn.
	MLflowRuns = 4
	// MinTrackingRatio is the target for the small model's requests per
	// second with the tracking store open and the MLflow load running over
	// those with the store closed.
	MinTrackingRatio = 0.97
)

// TrackingConfig configures TrackingCost. The zero value runs the
// scenario with the defaults it names.
type TrackingConfig struct {
	// RoundsConfig sets the rounds: a round is a phase with the tracking
	// store closed followed by one with it open, a fresh server each phase.
	RoundsConfig
	// MLflowRate is the MLflow load's total log-metric requests per
	// second. 0 means DefaultMLflowRate.
	MLflowRate float64
}

// TrackingPhase is one phase of TrackingCost: a fresh server with the
// tracking store closed or open, under the inference load.
type TrackingPhase struct {
	// Round is the phase's round, from 1.
	Round int `json:"round"`
	// Tracking reports the store open, with the MLflow load running;
	// otherwise the server ran with --no-tracking.
	Tracking bool `json:"tracking"`
	// Result is what the inference load measured.
	Result *Result `json:"result"`
	// MLflow is what the MLflow load did; nil with the store closed.
	MLflow *MLflowLoad `json:"mlflow,omitempty"`
}

// MLflowLoad is what the MLflow load beside a phase did, or, in
// TrackingReport, the sum over every phase. It is a plain value.
type MLflowLoad struct {
	// Runs counts the runs it created.
	Runs int `json:"runs"`
	// Requests counts its requests, run creations included; Metrics
	// counts the log-metric requests answered 200.
	Requests int64 `json:"requests"`
	Metrics  int64 `json:"metrics"`
	// Errors counts the requests answered otherwise, or not at all, and
	// run creations answered with no run id. FirstError describes one.
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// Seconds is how long it logged metrics, and MetricsPerSec the rate
	// it achieved: Metrics over Seconds.
	Seconds       float64 `json:"seconds"`
	MetricsPerSec float64 `json:"metrics_per_sec"`
}

// TrackingReport is the outcome of TrackingCost. It is a plain value; its
// JSON encoding is the machine-readable report.
type TrackingReport struct {
	// Machine says when and where the report was made.
	Machine
	// Rounds, Duration, Warmup, Connections and MLflowRate repeat the
	// configuration after defaults.
	Rounds      int           `json:"rounds"`
	Duration    time.Duration `json:"duration_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	Connections int           `json:"connections"`
	MLflowRate  float64       `json:"mlflow_rate"`
	// Phases are the phases in the order run: closed, open, closed, open
	// and so on, two per round.
	Phases []TrackingPhase `json:"phases"`
	// RoundRatios holds each round's requests per second with the store
	// open over those with it closed; 0 for a round with no successful
	// request. Ratio is their median (the lower middle one for an even
	// count), over the rounds that have one.
	RoundRatios []float64 `json:"round_ratios"`
	Ratio       float64   `json:"ratio"`
	// MLflow sums the MLflow load over every phase with the store open.
	MLflow MLflowLoad `json:"mlflow"`
	// Failed counts the inference requests of every phase that got no
	// 200, and the MLflow load's errors.
	Failed int64 `json:"failed"`
	// Goals are the targets, judged: Ratio at least MinTrackingRatio. It
	// is missing without a ratio or without a metric logged.
	Goals []Goal `json:"goals"`
}

// TrackingCost measures what the embedded tracking store costs the
// inference hot path. It publishes Compare's small model into a temporary
// registry, then, Rounds times, starts `switchyard serve --no-tracking` on
// it and drives one-row JSON requests over Connections connections for
// Duration, then does the same with the tracking store open while an
// MLflow load runs beside it: MLflowRuns runs created, then log-metric
// requests to them at MLflowRate over one connection of its own. Every
// phase gets a fresh server. engine.Init must have been called.
//
// Servers listen on 127.0.0.1 only and are stopped before TrackingCost
// returns, whatever happens. An error means the scenario could not be
// run; failed requests and a missed goal are reported, not errors.
func TrackingCost(ctx context.Context, cfg TrackingConfig) (*TrackingReport, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(cfg.Dir, "switchyard-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: tracking: %w", err)
	}
	defer os.RemoveAll(dir)
	registry := filepath.Join(dir, "registry")
	small := compareModels()[0]
	if _, err := modelstore.Publish(registry, SmallModel, small.mlp.Model().Marshal(), modelstore.PublishOptions{
		Description: "switchyard bench: random MLP", CreatedBy: "switchyard bench", Engine: cfg.Engine}); err != nil {
		return nil, fmt.Errorf("bench: tracking: %w", err)
	}
	rep := &TrackingReport{Machine: thisMachine(),
		Rounds: cfg.Rounds, Duration: cfg.Duration,
		Warmup: max(cfg.Warmup, 0), Connections: cfg.Connections, MLflowRate: cfg.MLflowRate}
	for round := 1; round <= cfg.Rounds; round++ {
		for _, open := range []bool{false, true} {
			p, err := cfg.phase(ctx, registry, &small, round, open)
			if err != nil {
				return nil, err
			}
			rep.Phases = append(rep.Phases, *p)
		}
	}
	rep.judge()
	return rep, nil
}

func (cfg *TrackingConfig) setDefaults() error {
	if err := cfg.RoundsConfig.setDefaults("tracking"); err != nil {
		return err
	}
	if cfg.MLflowRate < 0 {
		return errors.New("bench: tracking: negative MLflow rate")
	}
	cfg.MLflowRate = cmp.Or(cfg.MLflowRate, DefaultMLflowRate)
	return nil
}

// phase starts a server with the tracking store open or closed, measures
// the inference load against it (beside the MLflow load if open) and
// stops it.
func (cfg *TrackingConfig) phase(ctx context.Context, registry string, small *benchModel, round int, open bool) (*TrackingPhase, error) {
	cc := CompareConfig{Engine: cfg.Engine, ORTLib: cfg.ORTLib}
	args := slices.Concat([]string{"serve", "--registry", registry, "--addr", "127.0.0.1:0",
		"--log-level", "warn", "--shutdown-timeout", "10s"}, cc.engineArgs())
	name, label := "switchyard (tracking open)", "open + MLflow load"
	if !open {
		args = append(args, "--no-tracking")
		name, label = "switchyard --no-tracking", "closed"
	}
	ch, err := startChild(ctx, name, cfg.Binary, args, "switchyard listening on ", cfg.ChildStderr)
	if err != nil {
		return nil, err
	}
	p := &TrackingPhase{Round: round, Tracking: open}
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	if open {
		p.MLflow = &MLflowLoad{} // the load's alone until wg.Wait returns
		wg.Go(func() { runMLflowLoad(mctx, ch.addr, cfg.MLflowRate, p.MLflow) })
	}
	p.Result, err = Run(ctx, Config{URL: "http://" + ch.addr + "/v2/models/" + SmallModel + "/infer", Body: small.body,
		Connections: cfg.Connections, Warmup: max(cfg.Warmup, 0), Duration: cfg.Duration})
	stop()
	wg.Wait()
	if err = errors.Join(err, ch.stop()); err != nil {
		return nil, err
	}
	if r := p.Result; cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "round %d, tracking %-18s %8.0f req/s  p50 %9s  p99 %9s  errors %d%s\n", round, label,
			r.RequestsPerSec, formatDuration(r.Latency.P50), formatDuration(r.Latency.P99), r.Errors, p.MLflow.summary())
	}
	return p, nil
}

// runMLflowLoad creates MLflowRuns runs in the default experiment through
// the MLflow API at addr, then logs a metric to each in turn, rate times a
// second in all, until ctx is done. It uses one connection of its own and
// records what it did in l, which it owns until it returns.
func runMLflowLoad(ctx context.Context, addr string, rate float64, l *MLflowLoad) {
	hc := &fasthttp.HostClient{Addr: addr, Name: "switchyard-bench-mlflow", MaxConns: 1,
		MaxIdemponentCallAttempts: 1, ReadTimeout: DefaultTimeout, WriteTimeout: DefaultTimeout}
	defer hc.CloseIdleConnections()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	// post sends v as JSON to the endpoint and reports a 200; resp holds
	// the answer until the next call.
	post := func(endpoint string, v any) bool {
		body, _ := json.Marshal(v) // strings and finite numbers always encode
		req.SetRequestURI("http://" + addr + "/api/2.0/mlflow/" + endpoint)
		req.SetBody(body)
		l.Requests++
		if err := hc.Do(req, resp); err != nil {
			l.fail(fmt.Sprintf("%s: %v", endpoint, err))
			return false
		}
		if resp.StatusCode() != fasthttp.StatusOK {
			l.fail(fmt.Sprintf("%s: status %d: %.200s", endpoint, resp.StatusCode(), resp.Body()))
			return false
		}
		return true
	}
	var runs []string
	for i := 1; i <= MLflowRuns && ctx.Err() == nil; i++ {
		if !post("runs/create", map[string]string{"experiment_id": "0", "run_name": fmt.Sprintf("switchyard-bench-%d", i)}) {
			continue
		}
		id := fastjson.GetString(resp.Body(), "run", "info", "run_id")
		if id == "" {
			l.fail(fmt.Sprintf("runs/create: answered %.200s, with no run id", resp.Body()))
			continue
		}
		runs = append(runs, id)
	}
	l.Runs = len(runs)
	if len(runs) == 0 {
		return
	}
	tick := time.NewTicker(max(time.Duration(float64(time.Second)/rate), time.Microsecond))
	defer tick.Stop()
	start := time.Now()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			if l.Seconds = time.Since(start).Seconds(); l.Seconds > 0 {
				l.MetricsPerSec = float64(l.Metrics) / l.Seconds
			}
			return
		case <-tick.C:
		}
		step := i / len(runs)
		if post("runs/log-metric", map[string]any{"run_id": runs[i%len(runs)], "key": "loss",
			"value": 1 / float64(step+1), "timestamp": time.Now().UnixMilli(), "step": step}) {
			l.Metrics++
		}
	}
}

// fail counts an error, keeping the first one's text.
func (l *MLflowLoad) fail(msg string) {
	l.Errors++
	if l.FirstError == "" {
		l.FirstError = msg
	}
}

// summary describes l in a progress line; nothing for nil.
func (l *MLflowLoad) summary() string {
	if l == nil {
		return ""
	}
	return fmt.Sprintf("  MLflow %d runs, %d metrics at %.1f/s, %d errors", l.Runs, l.Metrics, l.MetricsPerSec, l.Errors)
}

// judge fills in the ratios, the sums and the goal.
func (r *TrackingReport) judge() {
	r.RoundRatios, r.Ratio = roundRatios(r.Phases, func(p TrackingPhase) *Result { return p.Result }, requestsPerSec)
	m := &r.MLflow
	for _, p := range r.Phases {
		r.Failed += p.Result.Errors
		if l := p.MLflow; l != nil {
			m.Runs, m.Requests, m.Metrics, m.Errors, m.Seconds = m.Runs+l.Runs, m.Requests+l.Requests,
				m.Metrics+l.Metrics, m.Errors+l.Errors, m.Seconds+l.Seconds
			m.FirstError = cmp.Or(m.FirstError, l.FirstError)
		}
	}
	if m.Seconds > 0 {
		m.MetricsPerSec = float64(m.Metrics) / m.Seconds
	}
	r.Failed += m.Errors
	r.Goals = []Goal{newGoal("small req/s with tracking open and MLflow load ÷ with tracking closed",
		r.Ratio, ">=", MinTrackingRatio, "", r.Ratio > 0 && m.Metrics > 0)}
}

// WriteText writes the report as fixed-width tables for people to read:
// the phases, the ratio of each round, the MLflow load and the goal.
func (r *TrackingReport) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "switchyard bench --tracking-cost: %s\n", r.Machine)
	fmt.Fprintf(bw, "model %s (MLP 30-64-2), one-row JSON requests over %d connections, %v after %v warm-up per phase; %d rounds,\n",
		SmallModel, r.Connections, r.Duration, r.Warmup, r.Rounds)
	fmt.Fprintf(bw, "each a fresh server with the tracking store closed (serve --no-tracking), then one with it open beside an MLflow\n")
	fmt.Fprintf(bw, "load: %d runs created, then log-metric to each in turn, %g req/s in all, over a connection of its own\n\n",
		MLflowRuns, r.MLflowRate)
	fmt.Fprintf(bw, "%-5s %-20s %9s %9s %9s %9s %7s %10s %10s %7s\n", "round", "tracking", "requests", "req/s", "p50", "p99",
		"errors", "÷ closed", "metrics/s", "errors")
	for i, p := range r.Phases {
		res, label, more := p.Result, "closed", ""
		if l := p.MLflow; l != nil && i/2 < len(r.RoundRatios) {
			label, more = "open + MLflow load", fmt.Sprintf(" %10s %10.1f %7d", formatFloatOrNA(r.RoundRatios[i/2]), l.MetricsPerSec, l.Errors)
		}
		fmt.Fprintf(bw, "%-5d %-20s %9d %9.0f %9s %9s %7d%s\n", p.Round, label, res.Requests, res.RequestsPerSec,
			formatDuration(res.Latency.P50), formatDuration(res.Latency.P99), res.Errors, more)
	}
	fmt.Fprintf(bw, "%-5s %-20s %58s\n", "", "median", formatFloatOrNA(r.Ratio))
	fmt.Fprintf(bw, "(÷ closed: the round's req/s with tracking open over those with it closed; metrics/s: MLflow metrics logged)\n\n")

	m := &r.MLflow
	fmt.Fprintf(bw, "MLflow load: %d runs, %d requests, %d metrics logged at %.1f/s (target %g/s), %d errors\n",
		m.Runs, m.Requests, m.Metrics, m.MetricsPerSec, r.MLflowRate, m.Errors)
	if m.FirstError != "" {
		fmt.Fprintf(bw, "first MLflow error: %s\n", m.FirstError)
	}
	if r.Failed > 0 {
		fmt.Fprintf(bw, "WARNING: %d requests failed (inference and MLflow): the ratio measures a server that did not answer them all\n", r.Failed)
	}

	fmt.Fprintf(bw, "\n%-72s %9s %10s %6s\n", "goal", "value", "target", "result")
	for _, g := range r.Goals {
		value := map[bool]string{false: formatFloat(g.Value), true: "n/a"}[g.Missing]
		fmt.Fprintf(bw, "%-72s %9s %10s %6s\n", g.Name, value, g.Op+" "+formatFloat(g.Target), map[bool]string{true: "PASS", false: "MISS"}[g.Pass])
	}
	return bw.Flush()
}
