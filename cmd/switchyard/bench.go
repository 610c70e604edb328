package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/bench"
)

// The smoke comparison: phases just long enough to prove the harness
// works end to end.
const (
	smokeDuration      = 300 * time.Millisecond
	smokeWarmup        = 100 * time.Millisecond
	smokeBatchDuration = 100 * time.Millisecond
)

// runBench is the bench verb. It has thirteen modes: a load run against a
// URL, the comparison suite (--compare), the HTTP floor (--serve-floor),
// the hot-swap scenario (--swap-cycles, whole rollouts with
// --rollout-cycles), the tracking-cost scenario (--tracking-cost), the
// canary-cost scenario (--canary-cost), the gate-cost scenario
// (--gate-cost), the records-cost scenario (--records-cost), the
// drift-cost scenario (--drift-cost), the log-cost scenario
// (--log-cost), the response cache scenario (--cache), the judgment
// scenario (--judgment) and the sustained-load scenario (--soak). It
// exits 0 whether or not the goals of the comparison or the scenarios
// are met; only a harness failure is an error.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "--url URL [--body FILE] [-H 'Name: value'] [-c 64] [--duration 10s] [--rate R] | --compare [--rounds 3] [--smoke] | --serve-floor ADDR [--floor-model FILE] | --swap-cycles N [--rollout-cycles] [--duration 3s] | --tracking-cost [--rounds 3] [--mlflow-rate 50] | --canary-cost [--rounds 3] | --gate-cost [--rounds 3] [--gate-concurrency 1] | --records-cost [--rounds 3] | --drift-cost [--rounds 3] | --log-cost [--rounds 3] | --cache [--rounds 3] | --soak DURATION [-c 8] [--rate 1000] | --judgment [--trials 20]", stderr)
	target := fs.String("url", "", "drive load at this http:// URL, e.g. http://127.0.0.1:8080/v2/models/fraud/infer")
	bodyFile := fs.String("body", "", "file holding the request body, POSTed as application/json (with --serve-floor: the answer)")
	bodyJSON := fs.String("body-json", "", "the request body itself, instead of --body")
	var conns int
	fs.IntVar(&conns, "c", bench.DefaultConnections, "shorthand for --connections")
	fs.IntVar(&conns, "connections", bench.DefaultConnections, "connections, each sending one request at a time")
	duration := fs.Duration("duration", 0, "measured time of the run (default 10s), of each phase with --compare, --tracking-cost, --canary-cost, --records-cost, --drift-cost or --cache, of each phase with no gate with --gate-cost (default 5s), or of the load without swaps with --swap-cycles (default 3s)")
	warmup := fs.Duration("warmup", time.Second, "unmeasured load before the measured time")
	rate := fs.Float64("rate", 0, "requests per second: open loop, latency counted from each request's due time (0: closed loop); with --soak: the inference traffic's total rate (default 1000)")
	rows := fs.Int("rows", 1, "rows per request, to report rows/s")
	requests := fs.Int64("requests", 0, "stop after this many measured requests (0: no limit)")
	timeout := fs.Duration("timeout", bench.DefaultTimeout, "bound on one request")
	jsonPath := fs.String("json", "", "also write the results as JSON to this file")
	compare := fs.Bool("compare", false, "compare switchyard with the HTTP floor and onnxruntime in-process, starting this binary as child processes on 127.0.0.1")
	smoke := fs.Bool("smoke", false, "with --compare: very short phases and few batch sizes, to check that the harness works")
	rounds := fs.Int("rounds", bench.DefaultRounds, "with --compare: run every phase this many times and report the median round; with --tracking-cost: this many rounds of tracking closed, then open; with --canary-cost: this many rounds of one version, then a two-arm canary; with --gate-cost: this many rounds of no gate, then a gate; with --records-cost: this many rounds of V2, then records requests; with --drift-cost: this many rounds with the drift monitor off, then on; with --cache: this many rounds of each comparison with the response cache off, then on")
	binary := fs.String("binary", "", "with --compare, --swap-cycles, --tracking-cost, --canary-cost, --gate-cost, --records-cost, --drift-cost, --cache or --soak: the switchyard binary to start (default: this executable)")
	floorAddr := fs.String("serve-floor", "", "serve on `ADDR` a bare fasthttp server answering a constant body, the HTTP floor the comparisons measure against, until SIGTERM")
	swapCycles := fs.Int("swap-cycles", 0, "publish `N` versions of a small model, one after another, to a child switchyard serve on 127.0.0.1 under load, and measure each swap, the latency around it and the server's memory")
	trackingCost := fs.Bool("tracking-cost", false, "measure a child switchyard serve on 127.0.0.1 serving a small model under load with the tracking store closed, then open beside a light MLflow load, in alternating rounds")
	rolloutCycles := fs.Bool("rollout-cycles", false, "with --swap-cycles: make each cycle a whole rollout through the operations API and rollout.json (canary 500, 2500, 5000, 10000 bp, finish, roll back, blue/green, roll back) instead of a plain swap")
	canaryCost := fs.Bool("canary-cost", false, "measure a child switchyard serve on 127.0.0.1 serving a small model under load with one version, then with two split 50/50 by a canary, in alternating rounds")
	gateCost := fs.Bool("gate-cost", false, "measure a child switchyard serve on 127.0.0.1 serving a small model under load with no gate running, then while a newly published version's gate evaluates it and the stable version on 100,000 rows, in alternating rounds")
	recordsCost := fs.Bool("records-cost", false, "measure a child switchyard serve on 127.0.0.1 serving a small model with a feature schema under one-row V2 requests, then one-instance records requests with the same values, in alternating rounds")
	logCost := fs.Bool("log-cost", false, "measure a child switchyard serve on 127.0.0.1 serving a small model under load with the prediction log and the drift monitor off, then both on and sampling every prediction, in alternating rounds, and the feedback ingest rate")
	driftCost := fs.Bool("drift-cost", false, "measure a child switchyard serve on 127.0.0.1 serving a small model with a drift profile under load with the drift monitor off, then on and sampling every prediction, in alternating rounds")
	cacheCost := fs.Bool("cache", false, "measure a child switchyard serve on 127.0.0.1 serving a small model with the response cache off, then on, in alternating rounds: under requests that repeat 64 rows, then under requests that all miss")
	gateConcurrency := fs.Int("gate-concurrency", 0, "with --gate-cost: the gate's concurrency in policy.yaml, batches of the evaluation run at once (0: the gate's default, 1)")
	mlflowRate := fs.Float64("mlflow-rate", bench.DefaultMLflowRate, "with --tracking-cost: log-metric requests per second of the MLflow load")
	soak := fs.Duration("soak", 0, "run a child switchyard serve on 127.0.0.1 for `DURATION` under mixed traffic (V2, records, bad requests, MLflow writes) while versions are published, gated, rolled out by canary and swapped; report errors by kind and latency, RSS and goroutines over time")
	judgment := fs.Bool("judgment", false, "roll out candidates identical to stable, 5 ms slower and failing 2% of requests, each --trials times, on a child switchyard serve on 127.0.0.1 under steady traffic while goroutines burn every CPU; report how many were promoted or rolled back and how long each took")
	trials := fs.Int("trials", 20, "with --judgment: rollouts of each kind of candidate")
	floorModel := fs.String("floor-model", "", "with --serve-floor: run this ONNX `FILE` once per request, on one row, before answering")
	var headers headerFlag
	fs.Var(&headers, "H", "with --url: add the request header `'Name: value'` (repeatable), e.g. -H 'Inference-Header-Content-Length: 93' for a binary request")
	var ef engineFlags
	ef.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	modes := 0
	for _, on := range []bool{*target != "", *compare, *floorAddr != "", set["swap-cycles"], *trackingCost, *canaryCost, *gateCost, *recordsCost, *driftCost, *logCost, *cacheCost, set["soak"], *judgment} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		fmt.Fprintln(stderr, "switchyard bench: give exactly one of --url, --compare, --serve-floor, --swap-cycles, --tracking-cost, --canary-cost, --gate-cost, --records-cost, --drift-cost, --log-cost, --cache, --soak and --judgment")
		fs.Usage()
		return errUsage
	}
	if set["swap-cycles"] && *swapCycles <= 0 {
		fmt.Fprintln(stderr, "switchyard bench: --swap-cycles must be positive")
		return errUsage
	}
	if *rolloutCycles && !set["swap-cycles"] {
		fmt.Fprintln(stderr, "switchyard bench: --rollout-cycles goes with --swap-cycles")
		return errUsage
	}
	if *canaryCost && *rounds <= 0 {
		fmt.Fprintln(stderr, "switchyard bench: with --canary-cost, --rounds must be positive")
		return errUsage
	}
	if *recordsCost && *rounds <= 0 {
		fmt.Fprintln(stderr, "switchyard bench: with --records-cost, --rounds must be positive")
		return errUsage
	}
	if *driftCost && *rounds <= 0 {
		fmt.Fprintln(stderr, "switchyard bench: with --drift-cost, --rounds must be positive")
		return errUsage
	}
	if *logCost && *rounds <= 0 {
		fmt.Fprintln(stderr, "switchyard bench: with --log-cost, --rounds must be positive")
		return errUsage
	}
	if *cacheCost && *rounds <= 0 {
		fmt.Fprintln(stderr, "switchyard bench: with --cache, --rounds must be positive")
		return errUsage
	}
	if *gateCost && (*rounds <= 0 || *gateConcurrency < 0) {
		fmt.Fprintln(stderr, "switchyard bench: with --gate-cost, --rounds must be positive and --gate-concurrency not negative")
		return errUsage
	}
	if set["gate-concurrency"] && !*gateCost {
		fmt.Fprintln(stderr, "switchyard bench: --gate-concurrency goes with --gate-cost")
		return errUsage
	}
	if *trackingCost && (*rounds <= 0 || *mlflowRate <= 0) {
		fmt.Fprintln(stderr, "switchyard bench: with --tracking-cost, --rounds and --mlflow-rate must be positive")
		return errUsage
	}
	if set["soak"] && *soak <= 0 {
		fmt.Fprintln(stderr, "switchyard bench: --soak must be positive")
		return errUsage
	}
	if *bodyFile != "" && *bodyJSON != "" {
		fmt.Fprintln(stderr, "switchyard bench: give --body or --body-json, not both")
		return errUsage
	}
	var body []byte
	switch {
	case *bodyFile != "":
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			return err
		}
		body = b
	case *bodyJSON != "":
		body = []byte(*bodyJSON)
	}

	// roundsConfig is what the scenarios that alternate two phases round
	// by round share.
	roundsConfig := func() bench.RoundsConfig {
		return bench.RoundsConfig{Binary: *binary, Rounds: *rounds, Duration: *duration, Warmup: scenarioWarmup(*warmup),
			Connections: conns, Engine: ef.cfg, ORTLib: ef.ortLib, Progress: stderr}
	}
	switch {
	case *floorAddr != "":
		cfg := bench.FloorConfig{Body: body, Engine: ef.cfg}
		if *floorModel != "" {
			if err := ef.init(); err != nil {
				return err
			}
			m, err := os.ReadFile(*floorModel)
			if err != nil {
				return err
			}
			cfg.Model = m
		}
		ln, err := net.Listen("tcp", *floorAddr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "floor listening on %s\n", ln.Addr())
		return bench.ServeFloor(ctx, ln, cfg)

	case *compare:
		cfg := bench.CompareConfig{RoundsConfig: roundsConfig()}
		if *smoke {
			if !set["duration"] {
				cfg.Duration = smokeDuration
			}
			if !set["warmup"] {
				cfg.Warmup = smokeWarmup
			}
			cfg.BatchDuration = min(cfg.Duration, smokeBatchDuration)
			cfg.BatchSizes = []int{1, 16, 256}
			if !set["rounds"] {
				cfg.Rounds = 1
			}
		}
		return runScenario(&ef, stdout, *jsonPath, func() (report, error) { return bench.Compare(ctx, cfg) })

	case set["swap-cycles"]:
		cfg := bench.SwapConfig{
			Binary:      *binary,
			Cycles:      *swapCycles,
			Duration:    *duration,
			Warmup:      *warmup,
			Connections: conns,
			Rollout:     *rolloutCycles,
			Engine:      ef.cfg,
			ORTLib:      ef.ortLib,
			Progress:    stderr,
		}
		cfg.Warmup = scenarioWarmup(cfg.Warmup)
		return runScenario(&ef, stdout, *jsonPath, func() (report, error) { return bench.Swap(ctx, cfg) })

	case *trackingCost:
		cfg := bench.TrackingConfig{RoundsConfig: roundsConfig(), MLflowRate: *mlflowRate}
		return runScenario(&ef, stdout, *jsonPath, func() (report, error) { return bench.TrackingCost(ctx, cfg) })

	case *canaryCost:
		cfg := bench.CanaryConfig{RoundsConfig: roundsConfig()}
		return runScenario(&ef, stdout, *jsonPath, func() (report, error) { return bench.CanaryCost(ctx, cfg) })

	case *gateCost:
		cfg := bench.GateConfig{RoundsConfig: roundsConfig(), Concurrency: *gateConcurrency}
		return runScenario(&ef, stdout, *jsonPath, func() (report, error) { return bench.GateCost(ctx, cfg) })

	case *recordsCost:
		cfg := bench.RecordsConfig{RoundsConfig: roundsConfig()}
		return runScenario(&ef, stdout, *jsonPath, func() (report, error) { return bench.RecordsCost(ctx, cfg) })

	case *driftCost:
		cfg := bench.DriftConfig{RoundsConfig: roundsConfig()}
		return runScenario(&ef, stdout, *jsonPath, func() (report, error) { return bench.DriftCost(ctx, cfg) })

	case *logCost:
		cfg := bench.LogConfig{RoundsConfig: roundsConfig()}
		return runScenario(&ef, stdout, *jsonPath, func() (report, error) { return bench.LogCost(ctx, cfg) })

	case *cacheCost:
		cfg := bench.CacheConfig{RoundsConfig: roundsConfig()}
		return runScenario(&ef, stdout, *jsonPath, func() (report, error) { return bench.CacheCost(ctx, cfg) })

	case *judgment:
		if *trials <= 0 {
			fmt.Fprintln(stderr, "switchyard bench: with --judgment, --trials must be positive")
			return errUsage
		}
		cfg := bench.JudgmentConfig{RoundsConfig: roundsConfig(), Trials: *trials}
		return runScenario(&ef, stdout, *jsonPath, func() (report, error) { return bench.Judgment(ctx, cfg) })

	case set["soak"]:
		cfg := bench.SoakConfig{Binary: *binary, Duration: *soak, Engine: ef.cfg, ORTLib: ef.ortLib, Progress: stderr}
		if set["c"] || set["connections"] {
			cfg.Connections = conns
		}
		if set["rate"] {
			cfg.Rate = *rate
		}
		return runScenario(&ef, stdout, *jsonPath, func() (report, error) { return bench.Soak(ctx, cfg) })

	default:
		if *duration == 0 {
			*duration = 10 * time.Second
		}
		res, err := bench.Run(ctx, bench.Config{
			URL:            *target,
			Body:           body,
			Connections:    conns,
			Rate:           *rate,
			Warmup:         *warmup,
			Duration:       *duration,
			MaxRequests:    *requests,
			RowsPerRequest: *rows,
			Timeout:        *timeout,
			Header:         headers.m,
		})
		if res == nil {
			return err
		}
		// Interrupted: still show what was measured, then the error.
		if werr := writeJSON(*jsonPath, res); werr != nil {
			return werr
		}
		if werr := res.WriteText(stdout); werr != nil {
			return werr
		}
		return err
	}
}

// report is what a benchmark scenario returns: JSON-encodable, and text
// for people.
type report interface{ WriteText(io.Writer) error }

// scenarioWarmup maps the flag --warmup 0, none, to the scenarios' "none",
// which is negative (their 0 means their default).
func scenarioWarmup(w time.Duration) time.Duration {
	if w == 0 {
		return -1
	}
	return w
}

// runScenario loads onnxruntime, runs a scenario and writes its report.
func runScenario(ef *engineFlags, stdout io.Writer, jsonPath string, run func() (report, error)) error {
	if err := ef.init(); err != nil {
		return err
	}
	rep, err := run()
	if err != nil {
		return err
	}
	return writeReport(stdout, jsonPath, rep)
}

// writeReport writes rep as JSON to the file at jsonPath, if any, then as
// text to w.
func writeReport(w io.Writer, jsonPath string, rep report) error {
	if err := writeJSON(jsonPath, rep); err != nil {
		return err
	}
	return rep.WriteText(w)
}

// writeJSON writes v, indented, to the file at path; an empty path writes
// nothing.
func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// headerFlag collects repeated -H 'Name: value' flags.
type headerFlag struct{ m map[string]string }

func (h *headerFlag) String() string { return "" }

func (h *headerFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("header %q: want 'Name: value'", s)
	}
	if h.m == nil {
		h.m = map[string]string{}
	}
	h.m[name] = strings.TrimSpace(value)
	return nil
}
