package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// Target and split of CanaryCost.
const (
	// MinCanaryRatio is the target for the small model's requests per
	// second with a two-arm canary over those with one version serving.
	MinCanaryRatio = 0.97
	// CanaryWeight is the candidate's share of CanaryCost's two-arm
	// phases, in basis points: an even split.
	CanaryWeight = 5000
)

// rolloutSteps returns the canary steps of a rollout cycle, in basis
// points: the policy's default steps, the first being the promote's, the
// others written to rollout.json one after another.
func rolloutSteps() []int { return rollout.DefaultPolicy().Steps }

// maxReadyVersions is the target for the versions ready after the last
// rollout cycle: the stable one, the newest above it and
// modelstore.DefaultKeepPrevious below it.
const maxReadyVersions = 2 + modelstore.DefaultKeepPrevious

// rolloutStepsText writes rolloutSteps as "500, 2500, 5000, 10000".
func rolloutStepsText() string {
	var b []byte
	for i, w := range rolloutSteps() {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(w), 10)
	}
	return string(b)
}

// CanaryConfig configures CanaryCost. The zero value runs the scenario
// with the defaults it names.
type CanaryConfig struct {
	// RoundsConfig sets the rounds: a round is a phase with one version
	// serving (a fresh server each phase) followed by one with a two-arm canary.
	RoundsConfig
}

// CanaryPhase is one phase of CanaryCost: a fresh server with one version
// of the small model serving, or two split by a canary, under load.
type CanaryPhase struct {
	// Round is the phase's round, from 1.
	Round int `json:"round"`
	// TwoArm reports two versions split CanaryWeight basis points to the
	// candidate; otherwise one version served every request.
	TwoArm bool `json:"two_arm"`
	// Result is what the load measured.
	Result *Result `json:"result"`
}

// CanaryReport is the outcome of CanaryCost. It is a plain value; its
// JSON encoding is the machine-readable report.
type CanaryReport struct {
	// Machine says when and where the report was made.
	Machine
	// Rounds, Duration, Warmup and Connections repeat the configuration
	// after defaults; Weight is the candidate's share of the two-arm
	// phases, in basis points.
	Rounds      int           `json:"rounds"`
	Duration    time.Duration `json:"duration_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	Connections int           `json:"connections"`
	Weight      int           `json:"weight_bp"`
	// Phases are the phases in the order run: single, two-arm, single,
	// two-arm and so on, two per round.
	Phases []CanaryPhase `json:"phases"`
	// RoundRatios holds each round's two-arm requests per second over its
	// single-version ones; 0 for a round with no successful request.
	// Ratio is their median (the lower middle one for an even count), over
	// the rounds that have one.
	RoundRatios []float64 `json:"round_ratios"`
	Ratio       float64   `json:"ratio"`
	// Failed counts the requests of every phase that got no 200.
	Failed int64 `json:"failed"`
	// Goals are the targets, judged: Ratio at least MinCanaryRatio. It is
	// missing without a ratio.
	Goals []Goal `json:"goals"`
}

// CanaryCost measures what a two-arm canary costs the inference hot path.
// It builds two temporary registries: one with Compare's small model as
// its only version, one with a second version of it beside the first and
// a rollout.json that gives the second CanaryWeight basis points as a
// canary. Rounds times, it starts `switchyard serve` on the first, drives
// one-row JSON requests over Connections connections for Duration, then
// does the same on the second once the server routes by the split. Every
// phase gets a fresh server. engine.Init must have been called.
//
// Servers listen on 127.0.0.1 only and are stopped before CanaryCost
// returns, whatever happens. An error means the scenario could not be run;
// failed requests and a missed goal are reported, not errors.
func CanaryCost(ctx context.Context, cfg CanaryConfig) (*CanaryReport, error) {
	if err := cfg.setDefaults("canary"); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(cfg.Dir, "switchyard-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: canary: %w", err)
	}
	defer os.RemoveAll(dir)
	small := compareModels()[0]
	sc := SwapConfig{Engine: cfg.Engine}
	single, split := filepath.Join(dir, "single"), filepath.Join(dir, "canary")
	for _, registry := range []string{single, split} {
		if _, err := sc.publish(registry, small.mlp); err != nil {
			return nil, err
		}
	}
	cand, err := sc.publish(split, reseed(small.mlp, 2))
	if err != nil {
		return nil, err
	}
	rep := &CanaryReport{Machine: thisMachine(),
		Rounds: cfg.Rounds, Duration: cfg.Duration,
		Warmup: max(cfg.Warmup, 0), Connections: cfg.Connections, Weight: CanaryWeight}
	for round := 1; round <= cfg.Rounds; round++ {
		for _, twoArm := range []bool{false, true} {
			registry, want := single, map[int]int{1: rollout.FullWeight}
			if twoArm {
				registry, want = split, map[int]int{1: rollout.FullWeight - CanaryWeight, cand: CanaryWeight}
				// Afresh for every phase, paused: the controller must not
				// move the split, during a phase or for the next one.
				err := rollout.WriteState(filepath.Join(split, SmallModel), &rollout.State{Stable: 1, Candidate: cand,
					Strategy: rollout.Canary, Step: 2, Weight: CanaryWeight, Paused: true, UpdatedAt: time.Now().UTC(),
					Actor: "bench", Reason: "switchyard bench --canary-cost"})
				if err != nil {
					return nil, fmt.Errorf("bench: canary: %w", err)
				}
			}
			p, err := cfg.phase(ctx, registry, &small, round, twoArm, want)
			if err != nil {
				return nil, err
			}
			rep.Phases = append(rep.Phases, *p)
		}
	}
	rep.judge()
	return rep, nil
}

// phase starts a server on registry, waits until it routes the small
// model's traffic as want says (basis points by version), measures the
// load against it and stops it.
func (cfg *CanaryConfig) phase(ctx context.Context, registry string, small *benchModel, round int, twoArm bool, want map[int]int) (*CanaryPhase, error) {
	cc := CompareConfig{Engine: cfg.Engine, ORTLib: cfg.ORTLib}
	args := slices.Concat([]string{"serve", "--registry", registry, "--addr", "127.0.0.1:0", "--admin-token=",
		"--log-level", "warn", "--shutdown-timeout", "10s"}, cc.engineArgs())
	name, label := "switchyard (one version)", "single"
	if twoArm {
		name, label = "switchyard (two-arm canary)", "two-arm canary"
	}
	ch, err := startChild(ctx, name, cfg.Binary, args, "switchyard listening on ", cfg.ChildStderr)
	if err != nil {
		return nil, err
	}
	p := &CanaryPhase{Round: round, TwoArm: twoArm}
	adm := newAdminClient(ch.addr, SmallModel)
	defer adm.close()
	split := func(m *adminModel) bool {
		for v, bp := range want {
			if mv := m.version(v); mv == nil || mv.TrafficBP != bp {
				return false
			}
		}
		return true
	}
	what := fmt.Sprintf("traffic %v basis points by version", want)
	err = adm.await(ctx, DefaultCycleTimeout, what, split)
	if err == nil {
		p.Result, err = Run(ctx, Config{URL: "http://" + ch.addr + "/v2/models/" + SmallModel + "/infer", Body: small.body,
			Connections: cfg.Connections, Warmup: max(cfg.Warmup, 0), Duration: cfg.Duration})
	}
	if err == nil { // the split must have held to the end
		err = adm.await(ctx, 0, what+" still, after the load,", split)
	}
	if err = errors.Join(err, ch.stop()); err != nil {
		return nil, err
	}
	if r := p.Result; cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "round %d, %-15s %8.0f req/s  p50 %9s  p99 %9s  errors %d\n", round, label,
			r.RequestsPerSec, formatDuration(r.Latency.P50), formatDuration(r.Latency.P99), r.Errors)
	}
	return p, nil
}

// judge fills in the ratios, the failures and the goal.
func (r *CanaryReport) judge() {
	r.RoundRatios, r.Ratio = roundRatios(r.Phases, func(p CanaryPhase) *Result { return p.Result }, requestsPerSec)
	for _, p := range r.Phases {
		r.Failed += p.Result.Errors
	}
	r.Goals = []Goal{newGoal("small req/s with a two-arm canary ÷ with one version", r.Ratio, ">=", MinCanaryRatio, "", r.Ratio > 0)}
}

// WriteText writes the report as fixed-width tables for people to read:
// the phases, the ratio of each round and the goal.
func (r *CanaryReport) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "switchyard bench --canary-cost: %s\n", r.Machine)
	fmt.Fprintf(bw, "model %s (MLP 30-64-2), one-row JSON requests over %d connections, %v after %v warm-up per phase; %d rounds,\n",
		SmallModel, r.Connections, r.Duration, r.Warmup, r.Rounds)
	fmt.Fprintf(bw, "each a fresh server with one version serving, then one with two versions split by a canary at %d bp\n\n", r.Weight)
	fmt.Fprintf(bw, "%-5s %-16s %9s %9s %9s %9s %7s %10s\n", "round", "serving", "requests", "req/s", "p50", "p99", "errors", "÷ single")
	for i, p := range r.Phases {
		res, label, more := p.Result, "one version", ""
		if p.TwoArm && i/2 < len(r.RoundRatios) {
			label, more = "two-arm canary", fmt.Sprintf(" %10s", formatFloatOrNA(r.RoundRatios[i/2]))
		}
		fmt.Fprintf(bw, "%-5d %-16s %9d %9.0f %9s %9s %7d%s\n", p.Round, label, res.Requests, res.RequestsPerSec,
			formatDuration(res.Latency.P50), formatDuration(res.Latency.P99), res.Errors, more)
	}
	fmt.Fprintf(bw, "%-5s %-16s %58s\n", "", "median", formatFloatOrNA(r.Ratio))
	fmt.Fprintf(bw, "(÷ single: the round's two-arm req/s over its single-version req/s)\n")
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

// adminModel is the part of GET /admin/models/{m} the scenarios read.
type adminModel struct {
	ServingVersion int            `json:"serving_version"`
	Versions       []adminVersion `json:"versions"`
}

// adminVersion is one version in adminModel.
type adminVersion struct {
	Version   int    `json:"version"`
	State     string `json:"state"`
	TrafficBP int    `json:"traffic_bp"`
}

// version returns the entry of version v, or nil.
func (m *adminModel) version(v int) *adminVersion {
	for i := range m.Versions {
		if m.Versions[i].Version == v {
			return &m.Versions[i]
		}
	}
	return nil
}

// ready counts the versions whose state is READY.
func (m *adminModel) ready() int {
	n := 0
	for _, v := range m.Versions {
		if v.State == "READY" {
			n++
		}
	}
	return n
}

// adminClient talks to one model's operations API over one connection of
// its own. It belongs to one goroutine; its owner must call close.
type adminClient struct {
	client *fasthttp.HostClient
	req    *fasthttp.Request
	resp   *fasthttp.Response
	base   string // http://addr/admin/models/{m}
}

func newAdminClient(addr, model string) *adminClient {
	return &adminClient{base: "http://" + addr + "/admin/models/" + model,
		req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse(),
		client: &fasthttp.HostClient{Addr: addr, Name: "switchyard-bench-admin", MaxConns: 1,
			MaxIdemponentCallAttempts: 1, ReadTimeout: DefaultTimeout, WriteTimeout: DefaultTimeout}}
}

func (a *adminClient) close() {
	a.client.CloseIdleConnections()
	fasthttp.ReleaseRequest(a.req)
	fasthttp.ReleaseResponse(a.resp)
}

// do sends the request set up in a.req and wants a 200.
func (a *adminClient) do(what string) error {
	if err := a.client.Do(a.req, a.resp); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if a.resp.StatusCode() != fasthttp.StatusOK {
		return fmt.Errorf("%s: status %d: %.300s", what, a.resp.StatusCode(), a.resp.Body())
	}
	return nil
}

// action POSTs body to the model's action (promote or rollback).
func (a *adminClient) action(action string, body map[string]any) error {
	body["actor"] = "bench"
	b, _ := json.Marshal(body) // strings and integers always encode
	a.req.Reset()
	a.req.SetRequestURI(a.base + "/" + action)
	a.req.Header.SetMethod(fasthttp.MethodPost)
	a.req.Header.SetContentType("application/json")
	a.req.SetBody(b)
	return a.do(fmt.Sprintf("%s %s", action, b))
}

// model reads the model's status.
func (a *adminClient) model() (*adminModel, error) {
	a.req.Reset()
	a.req.SetRequestURI(a.base)
	if err := a.do("GET " + a.base); err != nil {
		return nil, err
	}
	var m adminModel
	if err := json.Unmarshal(a.resp.Body(), &m); err != nil {
		return nil, fmt.Errorf("GET %s: %w", a.base, err)
	}
	return &m, nil
}

// await reads the model's status about every millisecond until ok holds,
// and fails once timeout has passed; what describes ok in that error.
func (a *adminClient) await(ctx context.Context, timeout time.Duration, what string, ok func(*adminModel) bool) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(timeout)
	for {
		m, err := a.model()
		if err == nil && ok(m) {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("last status %+v", *m)
			}
			return fmt.Errorf("bench: no %s within %v: %w", what, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// awaitAnswer probes about every millisecond until version want answers,
// and fails once timeout has passed. Unlike await, which expects versions
// to only grow, it counts as bad only answers that name no version: a
// rollout cycle goes back to older versions on purpose.
func (p *prober) awaitAnswer(ctx context.Context, want int, timeout time.Duration) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(timeout)
	for {
		sent := time.Now()
		err := p.client.Do(p.req, p.resp)
		p.probes.record(sent, time.Now(), p.resp.StatusCode(), err)
		header := p.resp.Header.Peek("X-Model-Version")
		if err == nil && p.resp.StatusCode() == fasthttp.StatusOK {
			switch v, verr := strconv.Atoi(string(header)); {
			case verr != nil:
				p.badVersions++
			case v == want:
				return nil
			}
		}
		if time.Now().After(deadline) {
			last := fmt.Sprintf("status %d, X-Model-Version %q", p.resp.StatusCode(), header)
			if err != nil {
				last = err.Error()
			}
			return fmt.Errorf("version %d did not answer within %v (last probe: %s)", want, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// rolloutCycle takes version v, just published, through a whole rollout
// over the version that serves: it waits until v is ready,
// promotes it as a canary, writes each further step of rolloutSteps to
// rollout.json and waits until the server routes by it, finishes the
// rollout (promote with bluegreen), rolls back to v-1, promotes v with
// bluegreen again and rolls back again, waiting each time until the
// expected version answers. v-1 serves when it returns. Each wait is
// bounded by CycleTimeout.
func (cfg *SwapConfig) rolloutCycle(ctx context.Context, adm *adminClient, pr *prober, modelDir string, v int) error {
	t := cfg.CycleTimeout
	err := adm.await(ctx, t, fmt.Sprintf("version %d ready", v), func(m *adminModel) bool {
		mv := m.version(v)
		return mv != nil && mv.State == "READY"
	})
	if err != nil {
		return err
	}
	if err := adm.action("promote", map[string]any{"version": v, "strategy": rollout.Canary, "reason": "bench: canary"}); err != nil {
		return err
	}
	st, err := rollout.ReadState(modelDir) // written before the promote answered
	if err != nil || st == nil || st.Candidate != v {
		return fmt.Errorf("rollout.json after the canary promote of version %d: %+v, %v", v, st, err)
	}
	for step, w := range rolloutSteps() {
		if step > 0 {
			err := rollout.WriteState(modelDir, &rollout.State{Stable: st.Stable, Candidate: v, Strategy: rollout.Canary, Step: step,
				Weight: w, UpdatedAt: time.Now().UTC(), Actor: "bench", Reason: "bench: step " + strconv.Itoa(step)})
			if err != nil {
				return err
			}
		}
		err := adm.await(ctx, t, fmt.Sprintf("version %d at %d bp", v, w), func(m *adminModel) bool {
			mv := m.version(v)
			return mv != nil && mv.TrafficBP == w
		})
		if err != nil {
			return err
		}
	}
	for _, a := range []struct {
		action string
		body   map[string]any
		want   int
	}{
		{"promote", map[string]any{"version": v, "strategy": rollout.BlueGreen, "reason": "bench: finish"}, v},
		{"rollback", map[string]any{"reason": "bench: roll back"}, v - 1},
		{"promote", map[string]any{"version": v, "strategy": rollout.BlueGreen, "reason": "bench: blue/green"}, v},
		{"rollback", map[string]any{"reason": "bench: roll back again"}, v - 1},
	} {
		if err := adm.action(a.action, a.body); err != nil {
			return err
		}
		if err := pr.awaitAnswer(ctx, a.want, t); err != nil {
			return fmt.Errorf("after %s: %w", a.action, err)
		}
	}
	return nil
}
