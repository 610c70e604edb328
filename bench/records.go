package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// MinRecordsRatio is the target for one-row records requests per second
// over one-row V2 requests carrying the same values, to the same model on
// the same server.
const MinRecordsRatio = 0.8

// RecordsConfig configures RecordsCost. The zero value runs the scenario
// with the defaults it names.
type RecordsConfig struct {
	// RoundsConfig sets the rounds: a round is a phase of V2 requests
	// followed by one of records requests, against one server.
	RoundsConfig
}

// RecordsPhase is one phase of RecordsCost: V2 or records requests under
// load.
type RecordsPhase struct {
	// Round is the phase's round, from 1.
	Round int `json:"round"`
	// Records reports records requests (POST /v1/models/{m}:predict);
	// otherwise the phase sent V2 requests (POST /v2/models/{m}/infer).
	Records bool `json:"records"`
	// Result is what the load measured.
	Result *Result `json:"result"`
}

// RecordsReport is the outcome of RecordsCost. It is a plain value; its
// JSON encoding is the machine-readable report.
type RecordsReport struct {
	// Machine says when and where the report was made.
	Machine
	// Rounds, Duration, Warmup and Connections repeat the configuration
	// after defaults.
	Rounds      int           `json:"rounds"`
	Duration    time.Duration `json:"duration_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	Connections int           `json:"connections"`
	// RecordsBody and V2Body are the requests sent, one instance or row
	// each, with the same values.
	RecordsBody string `json:"records_body"`
	V2Body      string `json:"v2_body"`
	// Phases are the phases in the order run: V2, records, V2, records
	// and so on, two per round.
	Phases []RecordsPhase `json:"phases"`
	// RoundRatios holds each round's records requests per second over its
	// V2 ones; 0 for a round with no successful request. Ratio is their
	// median (the lower middle one for an even count), over the rounds
	// that have one.
	RoundRatios []float64 `json:"round_ratios"`
	Ratio       float64   `json:"ratio"`
	// Failed counts the requests of every phase that got no 200.
	Failed int64 `json:"failed"`
	// Goals are the targets, judged: Ratio at least MinRecordsRatio. It
	// is missing without a ratio.
	Goals []Goal `json:"goals"`
}

// RecordsCost measures what decoding and validating records costs against
// V2. It publishes Compare's small model into a temporary registry with a
// feature schema for its 30 columns (recordsFeatures), starts one
// `switchyard serve` on it and, Rounds times, drives one-row V2 requests
// over Connections connections for Duration, then one-instance records
// requests carrying the same values. engine.Init must have been called.
//
// The server listens on 127.0.0.1 only and is stopped before RecordsCost
// returns, whatever happens. An error means the scenario could not be
// run; failed requests and a missed goal are reported, not errors.
func RecordsCost(ctx context.Context, cfg RecordsConfig) (*RecordsReport, error) {
	if err := cfg.setDefaults("records"); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(cfg.Dir, "switchyard-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: records: %w", err)
	}
	defer os.RemoveAll(dir)
	registry := filepath.Join(dir, "registry")
	small := compareModels()[0]
	if _, err := modelstore.Publish(registry, SmallModel, small.mlp.Model().Marshal(), modelstore.PublishOptions{
		Description: "switchyard bench: random MLP with a feature schema", CreatedBy: "switchyard bench", Engine: cfg.Engine,
		Features: recordsFeatures(), Classes: []string{"legit", "fraud"}}); err != nil {
		return nil, fmt.Errorf("bench: records: %w", err)
	}
	records, v2 := recordsBodies(1)
	rep := &RecordsReport{Machine: thisMachine(), Rounds: cfg.Rounds, Duration: cfg.Duration,
		Warmup: max(cfg.Warmup, 0), Connections: cfg.Connections, RecordsBody: string(records), V2Body: string(v2)}
	cc := CompareConfig{Engine: cfg.Engine, ORTLib: cfg.ORTLib}
	args := slices.Concat([]string{"serve", "--registry", registry, "--addr", "127.0.0.1:0",
		"--log-level", "warn", "--shutdown-timeout", "10s"}, cc.engineArgs())
	ch, err := startChild(ctx, "switchyard", cfg.Binary, args, "switchyard listening on ", cfg.ChildStderr)
	if err != nil {
		return nil, err
	}
	err = cfg.run(ctx, rep, ch.addr, records, v2)
	if err = errors.Join(err, ch.stop()); err != nil {
		return nil, err
	}
	rep.judge()
	return rep, nil
}

// run measures the rounds against the server at addr into rep.
func (cfg *RecordsConfig) run(ctx context.Context, rep *RecordsReport, addr string, records, v2 []byte) error {
	for round := 1; round <= cfg.Rounds; round++ {
		for _, rec := range []bool{false, true} {
			load := Config{URL: "http://" + addr + "/v2/models/" + SmallModel + "/infer", Body: v2,
				Connections: cfg.Connections, Warmup: max(cfg.Warmup, 0), Duration: cfg.Duration}
			label := "V2"
			if rec {
				load.URL, load.Body, label = "http://"+addr+"/v1/models/"+SmallModel+":predict", records, "records"
			}
			r, err := Run(ctx, load)
			if err != nil {
				return err
			}
			rep.Phases = append(rep.Phases, RecordsPhase{Round: round, Records: rec, Result: r})
			if cfg.Progress != nil {
				fmt.Fprintf(cfg.Progress, "round %d, %-7s %8.0f req/s  p50 %9s  p99 %9s  errors %d\n", round, label,
					r.RequestsPerSec, formatDuration(r.Latency.P50), formatDuration(r.Latency.P99), r.Errors)
			}
		}
	}
	return nil
}

// judge fills in the ratios, the failures and the goal.
func (r *RecordsReport) judge() {
	r.RoundRatios, r.Ratio = roundRatios(r.Phases, func(p RecordsPhase) *Result { return p.Result }, requestsPerSec)
	for _, p := range r.Phases {
		r.Failed += p.Result.Errors
	}
	r.Goals = []Goal{newGoal("small req/s with one-instance records ÷ one-row V2", r.Ratio, ">=", MinRecordsRatio, "", r.Ratio > 0)}
}

// WriteText writes the report as fixed-width tables for people to read:
// the phases, the ratio of each round and the goal.
func (r *RecordsReport) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "switchyard bench --records-cost: %s\n", r.Machine)
	fmt.Fprintf(bw, "model %s (MLP 30-64-2) with a feature schema of 28 fields for its 30 columns (26 numbers, a one-hot\n", SmallModel)
	fmt.Fprintf(bw, "category of 3 values, a bool), one server; %d rounds, each %v of one-row V2 requests then %v of one-instance\n",
		r.Rounds, r.Duration, r.Duration)
	fmt.Fprintf(bw, "records requests with the same values (%d and %d bytes), over %d connections after %v warm-up\n\n",
		len(r.V2Body), len(r.RecordsBody), r.Connections, r.Warmup)
	fmt.Fprintf(bw, "%-5s %-8s %9s %9s %9s %9s %7s %10s\n", "round", "requests", "sent", "req/s", "p50", "p99", "errors", "÷ V2")
	for i, p := range r.Phases {
		res, label, more := p.Result, "V2", ""
		if p.Records && i/2 < len(r.RoundRatios) {
			label, more = "records", fmt.Sprintf(" %10s", formatFloatOrNA(r.RoundRatios[i/2]))
		}
		fmt.Fprintf(bw, "%-5d %-8s %9d %9.0f %9s %9s %7d%s\n", p.Round, label, res.Requests, res.RequestsPerSec,
			formatDuration(res.Latency.P50), formatDuration(res.Latency.P99), res.Errors, more)
	}
	fmt.Fprintf(bw, "%-5s %-8s %58s\n", "", "median", formatFloatOrNA(r.Ratio))
	fmt.Fprintf(bw, "(÷ V2: the round's records req/s over its V2 req/s)\n")
	if r.Failed > 0 {
		fmt.Fprintf(bw, "WARNING: %d requests failed: the ratio measures a server that did not answer them all\n", r.Failed)
	}
	fmt.Fprintf(bw, "\n%-60s %9s %10s %6s\n", "goal", "value", "target", "result")
	for _, g := range r.Goals {
		value := map[bool]string{false: formatFloat(g.Value), true: "n/a"}[g.Missing]
		fmt.Fprintf(bw, "%-60s %9s %10s %6s\n", g.Name, value, g.Op+" "+formatFloat(g.Target), map[bool]string{true: "PASS", false: "MISS"}[g.Pass])
	}
	return bw.Flush()
}

// recordsCountries are the values of recordsFeatures' category.
var recordsCountries = []string{"FR", "DE", "US"}

// recordsFeatures is a feature schema for the 30 FP32 columns of
// Compare's small model, as a fraud model's might be: 26 numbers f00 to
// f25, a country one-hot over three columns and a bool.
func recordsFeatures() []modelstore.Feature {
	fs := make([]modelstore.Feature, 0, 28)
	for c := range 26 {
		fs = append(fs, modelstore.Feature{Name: fmt.Sprintf("f%02d", c), Type: modelstore.TypeNumber, Position: c})
	}
	return append(fs,
		modelstore.Feature{Name: "country", Type: modelstore.TypeCategory, Values: recordsCountries,
			Encoding: modelstore.EncodeOneHot, Position: 26},
		modelstore.Feature{Name: "is_foreign", Type: modelstore.TypeBool, Position: 29})
}

// recordsBodies returns a one-instance records request for
// recordsFeatures, with numbers drawn as InferBody draws them from seed,
// and the one-row V2 request that carries the same values as the model
// gets them.
func recordsBodies(seed uint64) (records, v2 []byte) {
	vals := make([]float32, 28)
	randomFloats(vals, seed)
	country := min(int((vals[26]+1)/2*float32(len(recordsCountries))), len(recordsCountries)-1)
	foreign := vals[27] > 0
	records = append(records, `{"instances":[{`...)
	v2 = appendInputHeader(v2, "input", 1, 30)
	v2 = append(v2, `,"data":[`...)
	for c, v := range vals[:26] {
		records = fmt.Appendf(records, `"f%02d":`, c)
		records = strconv.AppendFloat(records, float64(v), 'g', -1, 32)
		records = append(records, ',')
		v2 = strconv.AppendFloat(v2, float64(v), 'g', -1, 32)
		v2 = append(v2, ',')
	}
	records = fmt.Appendf(records, `"country":%q,"is_foreign":%t}]}`, recordsCountries[country], foreign)
	for k := range recordsCountries {
		if k == country {
			v2 = append(v2, "1,"...)
		} else {
			v2 = append(v2, "0,"...)
		}
	}
	if foreign {
		v2 = append(v2, '1')
	} else {
		v2 = append(v2, '0')
	}
	return records, append(v2, "]}]}"...)
}
