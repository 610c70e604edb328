package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// Defaults of CompareConfig.
const (
	// DefaultPhaseDuration is the measured time of each load phase.
	DefaultPhaseDuration = 5 * time.Second
	// DefaultPhaseWarmup is the unmeasured load before each phase.
	DefaultPhaseWarmup = time.Second
	// DefaultConnections is the many-connection count of the load phases.
	DefaultConnections = 64
	// DefaultRounds is how many times Compare runs every phase.
	DefaultRounds = 3
	// MaxBatchSize is the --max-batch-size of the server with batching on.
	MaxBatchSize = 256
	// BinaryRows is the rows per request of the heavy model's binary
	// phases.
	BinaryRows = 64
)

// The servers a Phase measures.
const (
	// ServerFloor is the HTTP floor, ServeFloor in a child process.
	ServerFloor = "floor"
	// ServerFloorModel is the floor that also runs the small model once
	// per request (FloorConfig.Model).
	ServerFloorModel = "floor+onnxruntime"
	// ServerSwitchyard is `switchyard serve` in a child process.
	ServerSwitchyard = "switchyard"
)

// The models Compare builds and serves.
const (
	// SmallModel is RandomMLP 30-64-2 with softmax: HTTP and JSON dominate
	// its cost.
	SmallModel = "small"
	// HeavyModel is RandomMLP 256-1024-1024-1024-2 with softmax: the model
	// dominates its cost, so batching pays.
	HeavyModel = "heavy"
)

// CompareConfig configures Compare. The zero value runs the full
// comparison with the defaults below.
type CompareConfig struct {
	// RoundsConfig sets the servers and the load phases. Every phase is
	// run over Connections connections and also over one, and Rounds
	// times, one round after another; the report gives each phase's
	// median round, which keeps a passing spell of noise on the shared
	// machine out of the ratios. Engine also configures the in-process
	// sessions, so they and the servers run the model alike.
	RoundsConfig
	// BatchDuration is how long each in-process batch size runs. 0 means
	// the smaller of Duration and one second.
	BatchDuration time.Duration
	// BatchSizes are the in-process batch sizes. Nil means
	// DefaultBatchSizes().
	BatchSizes []int
	// Concurrency is the number of goroutines sharing the in-process
	// session. 0 means runtime.NumCPU().
	Concurrency int
}

// Phase is one load phase of a comparison.
type Phase struct {
	// Server is ServerFloor, ServerFloorModel or ServerSwitchyard.
	Server string `json:"server"`
	// Model is the model queried; empty for the floor.
	Model string `json:"model,omitempty"`
	// MaxBatchSize is the server's --max-batch-size; 0 for the floor.
	MaxBatchSize int `json:"max_batch_size,omitempty"`
	// Binary reports requests in the binary tensor data extension, with
	// binary outputs; otherwise they are JSON.
	Binary bool `json:"binary,omitempty"`
	// Result is what the load generator measured.
	Result *Result `json:"result"`
	// ClientCPU and ServerCPU are the CPU cores that the load generator
	// (this process) and the server used on average over the phase,
	// warm-up included: CPU time over wall time, to about 1%. They are 0
	// when unknown (outside Linux). Client and server share the machine,
	// so their sum shows how close it was to saturation.
	ClientCPU float64 `json:"client_cpu"`
	ServerCPU float64 `json:"server_cpu"`
	// RoundRowsPerSec holds the rows per second of every round, in the
	// order run; Result is the median one's.
	RoundRowsPerSec []float64 `json:"round_rows_per_sec,omitempty"`
}

// Label names the phase in tables, such as "switchyard heavy batch≤256",
// with " binary" for binary requests.
func (p *Phase) Label() string {
	switch p.Server {
	case ServerFloor:
		return "floor (bare fasthttp)"
	case ServerFloorModel:
		return "floor + onnxruntime " + p.Model
	}
	l := p.Server + " " + p.Model + " batch≤" + strconv.Itoa(p.MaxBatchSize)
	if p.MaxBatchSize <= 1 {
		l = p.Server + " " + p.Model + " batching off"
	}
	if p.Binary {
		l += " binary"
	}
	return l
}

// Report is the outcome of Compare: every measurement and the goals the
// issue sets, judged. It is a plain value; its JSON encoding is the
// machine-readable report.
type Report struct {
	// Machine says when the comparison started and on what.
	Machine
	// Duration, Warmup, BatchDuration, Connections and Rounds repeat the
	// configuration after defaults.
	Duration      time.Duration `json:"duration_ns"`
	Warmup        time.Duration `json:"warmup_ns"`
	BatchDuration time.Duration `json:"batch_duration_ns"`
	Connections   int           `json:"connections"`
	Rounds        int           `json:"rounds"`
	// Phases are the load phases in the order run, each its median round.
	Phases []Phase `json:"phases"`
	// InProcess holds onnxruntime's own throughput, one entry per model.
	InProcess []*InProcessResult `json:"in_process"`
	// Goals are the targets, judged.
	Goals []Goal `json:"goals"`
	// Ratios are further comparisons that explain the goals.
	Ratios []Ratio `json:"ratios"`
}

// Compare measures, one phase after another: the HTTP floor (a child
// `bench --serve-floor`) and the floor that also runs the small model,
// onnxruntime in this process at each batch size, then switchyard (a child
// `serve`) with batching off and on, with one-row JSON requests over
// Connections connections and over one, and with BinaryRows-row binary
// requests to the heavy model. It runs all of that Rounds times and
// reports each phase's median round. It builds the small and heavy models
// itself and publishes them into a temporary registry. engine.Init must
// have been called.
//
// Children listen on 127.0.0.1 only and are stopped (SIGTERM, then waited
// for) before Compare returns, whatever happens. An error means the
// comparison could not be run; a goal that is missed is not an error.
func Compare(ctx context.Context, cfg CompareConfig) (*Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	rep := &Report{Machine: thisMachine(), Duration: cfg.Duration, Warmup: max(cfg.Warmup, 0),
		BatchDuration: cfg.BatchDuration, Connections: cfg.Connections, Rounds: cfg.Rounds}
	rounds := make([]*Report, cfg.Rounds)
	err := cfg.onStage("compare", func(st *stage) error {
		registry := st.registry("registry")
		models := compareModels()
		for _, m := range models {
			_, err := modelstore.Publish(registry, m.name, m.mlp.Model().Marshal(), modelstore.PublishOptions{
				Description: "switchyard bench: random MLP",
				CreatedBy:   "switchyard bench",
				Engine:      cfg.Engine,
			})
			if err != nil {
				return fmt.Errorf("bench: compare: %w", err)
			}
		}
		for i := range rounds {
			rounds[i] = &Report{}
			if cfg.Rounds > 1 {
				cfg.progress("round %d of %d\n", i+1, cfg.Rounds)
			}
			if err := cfg.round(ctx, rounds[i], st, registry, models); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.Phases, rep.InProcess = medians(rounds)
	rep.Goals, rep.Ratios = judge(rep)
	return rep, nil
}

// round runs every phase of the comparison once, in order, into rep: the
// floors, onnxruntime in-process, then switchyard with batching off and
// on.
func (cfg *CompareConfig) round(ctx context.Context, rep *Report, st *stage, registry string, models []benchModel) error {
	conns := []int{cfg.Connections, 1}
	if cfg.Connections == 1 {
		conns = conns[:1]
	}

	// (a) The floor, answering requests shaped like the small model's;
	// then the floor that also runs the small model once per request.
	small, heavy := &models[0], &models[1]
	floor := []string{"bench", "--serve-floor", "127.0.0.1:0"}
	err := cfg.withChild(ctx, "floor", floor, "floor listening on ", func(ch *child) error {
		for _, c := range conns {
			p := Phase{Server: ServerFloor}
			if err := cfg.measure(ctx, rep, &p, ch, small.jsonLoad(), c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	smallFile := filepath.Join(st.dir, "small.onnx")
	if err := os.WriteFile(smallFile, small.mlp.Model().Marshal(), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	floorModel := slices.Concat(floor, []string{"--floor-model", smallFile}, cfg.engineArgs())
	err = cfg.withChild(ctx, "floor+onnxruntime", floorModel, "floor listening on ", func(ch *child) error {
		p := Phase{Server: ServerFloorModel, Model: small.name}
		return cfg.measure(ctx, rep, &p, ch, small.jsonLoad(), cfg.Connections)
	})
	if err != nil {
		return err
	}

	// (b) onnxruntime alone.
	for i, m := range models {
		r, err := InProcess(ctx, InProcessConfig{
			Name:        m.name,
			Model:       m.mlp.Model().Marshal(),
			Engine:      cfg.Engine,
			BatchSizes:  cfg.BatchSizes,
			Duration:    cfg.BatchDuration,
			Concurrency: cfg.Concurrency,
			Seed:        uint64(i + 1),
		})
		if err != nil {
			return err
		}
		rep.InProcess = append(rep.InProcess, r)
		cfg.progress("in-process %-6s best %8.0f rows/s at batch %d\n", m.name, r.Best.RowsPerSec, r.Best.BatchSize)
	}

	// (c), (d) switchyard with batching off, then on: one-row JSON
	// requests to both models, then BinaryRows-row binary requests to the
	// heavy one.
	for _, maxBatch := range []int{1, MaxBatchSize} {
		flags := []string{"--max-batch-size", strconv.Itoa(maxBatch)}
		err := st.withServer(ctx, "switchyard "+strings.Join(flags, " "), registry, flags, func(ch *child) error {
			for _, m := range models {
				for _, c := range conns {
					p := Phase{Server: ServerSwitchyard, Model: m.name, MaxBatchSize: maxBatch}
					if err := cfg.measure(ctx, rep, &p, ch, m.jsonLoad(), c); err != nil {
						return err
					}
				}
			}
			p := Phase{Server: ServerSwitchyard, Model: heavy.name, MaxBatchSize: maxBatch, Binary: true}
			return cfg.measure(ctx, rep, &p, ch, heavy.binaryLoad(), cfg.Connections)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// medians merges the rounds of a comparison, which ran the same phases in
// the same order: each phase is the round's result with the median rows
// per second (the lower middle one for an even count), and each model's
// onnxruntime result the round's with the median best rows per second.
// Every round's figure is kept in Phase.RoundRowsPerSec and
// InProcessResult.RoundBest.
func medians(rounds []*Report) ([]Phase, []*InProcessResult) {
	first := rounds[0]
	phases := make([]Phase, len(first.Phases))
	for i := range phases {
		all := make([]Phase, len(rounds))
		for r, rep := range rounds {
			all[r] = rep.Phases[i]
		}
		slices.SortStableFunc(all, func(a, b Phase) int { return cmp.Compare(a.Result.RowsPerSec, b.Result.RowsPerSec) })
		phases[i] = all[(len(all)-1)/2]
		phases[i].RoundRowsPerSec = nil
		for _, rep := range rounds {
			phases[i].RoundRowsPerSec = append(phases[i].RoundRowsPerSec, rep.Phases[i].Result.RowsPerSec)
		}
	}
	inproc := make([]*InProcessResult, len(first.InProcess))
	for i := range inproc {
		all := make([]*InProcessResult, len(rounds))
		var bests []float64
		for r, rep := range rounds {
			all[r] = rep.InProcess[i]
			bests = append(bests, rep.InProcess[i].Best.RowsPerSec)
		}
		slices.SortStableFunc(all, func(a, b *InProcessResult) int { return cmp.Compare(a.Best.RowsPerSec, b.Best.RowsPerSec) })
		m := *all[(len(all)-1)/2]
		m.RoundBest = bests
		inproc[i] = &m
	}
	return phases, inproc
}

func (cfg *CompareConfig) setDefaults() error {
	if cfg.BatchDuration < 0 || cfg.Concurrency < 0 {
		return errors.New("bench: compare: negative batch duration or concurrency")
	}
	if err := cfg.RoundsConfig.setDefaults("compare"); err != nil {
		return err
	}
	cfg.BatchDuration = cmp.Or(cfg.BatchDuration, min(cfg.Duration, time.Second))
	cfg.Concurrency = cmp.Or(cfg.Concurrency, runtime.NumCPU())
	return nil
}

// measure runs one closed-loop load phase of spec's requests against its
// model's infer path on the child server ch, and appends it to rep.
func (cfg *CompareConfig) measure(ctx context.Context, rep *Report, p *Phase, ch *child, spec loadSpec, conns int) error {
	self := os.Getpid()
	start := time.Now()
	client0, cerr0 := processCPU(self)
	server0, serr0 := processCPU(ch.cmd.Process.Pid)
	r, err := Run(ctx, Config{
		URL:            "http://" + ch.addr + "/v2/models/" + spec.model + "/infer",
		Body:           spec.body,
		Header:         spec.header,
		Connections:    conns,
		Warmup:         max(cfg.Warmup, 0),
		Duration:       cfg.Duration,
		RowsPerRequest: spec.rows,
	})
	if err != nil {
		return err
	}
	wall := time.Since(start).Seconds()
	if client1, err := processCPU(self); err == nil && cerr0 == nil {
		p.ClientCPU = (client1 - client0).Seconds() / wall
	}
	if server1, err := processCPU(ch.cmd.Process.Pid); err == nil && serr0 == nil {
		p.ServerCPU = (server1 - server0).Seconds() / wall
	}
	p.Result = r
	rep.Phases = append(rep.Phases, *p)
	cfg.progress("%-36s %3d conns %9.0f rows/s  p50 %9s  p99 %9s  errors %d  cpu %.2f+%.2f\n",
		p.Label(), conns, r.RowsPerSec, formatDuration(r.Latency.P50), formatDuration(r.Latency.P99), r.Errors, p.ClientCPU, p.ServerCPU)
	return nil
}
