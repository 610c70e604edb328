package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// The kinds of candidate Judgment rolls out, and what it expects of each.
const (
	// JudgeIdentical is a candidate identical to stable: it must be
	// promoted, however the CPU burner disturbs latency.
	JudgeIdentical = "identical"
	// JudgeSlower computes the same answers as stable through extra
	// identity layers that cost about 5 ms a request: it must be rolled
	// back.
	JudgeSlower = "slower"
	// JudgeErrors answers as stable does but gives NaN, which the server
	// answers 500, on the 2% of requests whose first feature is positive:
	// it must be rolled back.
	JudgeErrors = "errors"
)

// JudgmentConfig configures Judgment. The zero value runs the scenario
// with the defaults it names.
type JudgmentConfig struct {
	// RoundsConfig gives the binary, the engine, Dir, Progress and
	// ChildStderr; its rounds, duration and connections are unused.
	RoundsConfig
	// Trials is how many rollouts of each kind run. 0 means 20.
	Trials int
	// Burners is how many goroutines burn CPU in this process while the
	// rollouts run, competing with the server. 0 means one per CPU; a
	// negative value means none.
	Burners int
}

// JudgmentTrial is one rollout of Judgment.
type JudgmentTrial struct {
	// Outcome is promoted, rolled back, paused or timed out.
	Outcome string `json:"outcome"`
	// Seconds is how long the rollout took, from the candidate's publish
	// to the controller's final decision.
	Seconds float64 `json:"seconds"`
	// Reason is the controller's reason for the final decision.
	Reason string `json:"reason"`
}

// JudgmentKind is the outcome of the rollouts of one kind of candidate.
type JudgmentKind struct {
	Kind string `json:"kind"`
	// Want is the outcome every trial should have.
	Want string `json:"want"`
	// Rate is the requests per second sent while the kind's trials ran,
	// Bake the bake of each canary step.
	Rate int           `json:"rate"`
	Bake time.Duration `json:"bake_ns"`
	// Good counts the trials with the wanted outcome.
	Good   int             `json:"good"`
	Trials []JudgmentTrial `json:"trials"`
	// MedianSeconds and MaxSeconds summarise the trials' times.
	MedianSeconds float64 `json:"median_seconds"`
	MaxSeconds    float64 `json:"max_seconds"`
	// StableLatency and CandidateLatency are each version's median
	// latency over sequential requests that name it, measured with no
	// burner before the trials: what the candidate costs more.
	StableLatency    time.Duration `json:"stable_median_ns"`
	CandidateLatency time.Duration `json:"candidate_median_ns"`
	// Failed counts the requests of the trials' traffic that failed.
	Failed uint64 `json:"failed_requests"`
}

// JudgmentReport is the outcome of Judgment. It is a plain value; its
// JSON encoding is the machine-readable report.
type JudgmentReport struct {
	Trials  int            `json:"trials"`
	Burners int            `json:"burners"`
	Steps   []int          `json:"steps_bp"`
	Kinds   []JudgmentKind `json:"kinds"`
	Goals   []Goal         `json:"goals"`
}

// judgmentKinds are the kinds Judgment runs, with their traffic and bake:
// the bake is long enough for the error comparison to see a difference of
// max_error_rate_delta (1 percentage point) at that rate, and the slower
// candidate runs at a rate the machine can give it.
var judgmentKinds = []struct {
	kind, want string
	rate       int
	bake       time.Duration
}{
	{JudgeIdentical, "promoted", 1000, 4 * time.Second},
	{JudgeSlower, "rolled back", 200, 4 * time.Second},
	{JudgeErrors, "rolled back", 1000, 10 * time.Second},
}

// judgmentSlowLayers is how many 1024-wide identity layers make the
// slower candidate: about 5 ms more a request on the 2-core machine the
// figures in docs/rollouts.md come from (the report measures it).
const judgmentSlowLayers = 96

// judgmentSteps are the canary's steps: half the traffic, then all.
var judgmentSteps = []int{5000, rollout.FullWeight}

// Judgment measures the rollout controller's judgment on a busy machine:
// for each kind of candidate (identical to stable, 5 ms slower, failing
// 2% of requests) it starts `switchyard serve` on a registry of its own
// with the small model as version 1 and a canary policy with the default
// bounds (only the bake set), sends one-row requests at a fixed rate
// while goroutines burn every CPU, and publishes Trials candidates one
// after another, each once the previous rollout ended. It reports each
// rollout's outcome and time. engine.Init must have been called.
func Judgment(ctx context.Context, cfg JudgmentConfig) (*JudgmentReport, error) {
	if err := cfg.setDefaults("judgment"); err != nil {
		return nil, err
	}
	cfg.Trials = cmp.Or(cfg.Trials, 20)
	if cfg.Trials < 0 {
		return nil, fmt.Errorf("bench: judgment: negative trials")
	}
	burners := cfg.Burners
	switch {
	case burners == 0:
		burners = runtime.NumCPU()
	case burners < 0:
		burners = 0
	}
	rep := &JudgmentReport{Trials: cfg.Trials, Burners: burners, Steps: judgmentSteps}
	for _, k := range judgmentKinds {
		kr := JudgmentKind{Kind: k.kind, Want: k.want, Rate: k.rate, Bake: k.bake}
		err := cfg.onStage("judgment", func(st *stage) error { return cfg.runKind(ctx, st, &kr, burners) })
		if err != nil {
			return nil, err
		}
		rep.Kinds = append(rep.Kinds, kr)
		rep.Goals = append(rep.Goals, newGoal(fmt.Sprintf("%s candidates %s", k.kind, k.want), float64(kr.Good), ">=", float64(cfg.Trials), "", true))
	}
	return rep, nil
}

// runKind runs the trials of one kind on a stage of its own.
func (cfg *JudgmentConfig) runKind(ctx context.Context, st *stage, kr *JudgmentKind, burners int) error {
	registry := st.registry("judgment")
	base := st.small.mlp
	if _, err := st.publish(registry, base, modelstore.PublishOptions{}); err != nil {
		return err
	}
	policy := fmt.Sprintf("rollout:\n  on_publish: canary\n  steps: [%s]\n  bake: %s\n", joinInts(judgmentSteps), kr.Bake)
	if err := os.WriteFile(filepath.Join(registry, SmallModel, modelstore.PolicyFile), []byte(policy), 0o644); err != nil {
		return fmt.Errorf("bench: judgment: %w", err)
	}
	var cand []byte
	switch kr.Kind {
	case JudgeIdentical:
		cand = base.Model().Marshal()
	case JudgeSlower:
		cand = slowerModel(base, 1024, judgmentSlowLayers).Marshal()
	case JudgeErrors:
		cand = failingMLP(base).Model().Marshal()
	}
	ch, err := st.serveAll(ctx, registry, "--controller-tick", "250ms")
	if err != nil {
		return err
	}
	bodies := judgmentBodies(base.Features())
	client := &fasthttp.HostClient{Addr: ch.addr, Name: "switchyard-bench-judgment", MaxConns: 64,
		ReadTimeout: DefaultTimeout, WriteTimeout: DefaultTimeout}
	url := "http://" + ch.addr + "/v2/models/" + SmallModel

	// Rollout 0 is not a trial: its candidate is measured, by name and
	// with no burner, for what it costs; then the traffic starts, and the
	// burner with rollout 1.
	modelDir := filepath.Join(registry, SmallModel)
	for i := range cfg.Trials + 1 {
		if i == 1 {
			stopBurn := burnCPU(burners)
			defer stopBurn()
		}
		start := time.Now()
		v, err := modelstore.Publish(registry, SmallModel, cand, modelstore.PublishOptions{
			Description: "switchyard bench: " + kr.Kind + " candidate", CreatedBy: "switchyard bench", Engine: st.cfg.Engine})
		if err != nil {
			return fmt.Errorf("bench: judgment: %w", err)
		}
		if i == 0 {
			if err := awaitVersion(ctx, ch.addr, v); err != nil {
				return st.failure(ctx, err)
			}
			kr.StableLatency = medianLatency(client, url+"/versions/1/infer", bodies[1:], 300)
			kr.CandidateLatency = medianLatency(client, url+"/versions/"+strconv.Itoa(v)+"/infer", bodies[1:], 300)
			stop := startTraffic(client, url+"/infer", bodies, kr.Rate, &kr.Failed)
			defer stop()
		}
		tr, err := awaitOutcome(ctx, modelDir, v, start, time.Minute+3*kr.Bake)
		if err != nil {
			return st.failure(ctx, err)
		}
		if i == 0 {
			continue
		}
		kr.Trials = append(kr.Trials, tr)
		if tr.Outcome == kr.Want {
			kr.Good++
		}
		cfg.progress("judgment %-9s trial %2d: %s after %.1fs (%s)\n", kr.Kind, i, tr.Outcome, tr.Seconds, short(tr.Reason))
	}
	var secs []float64
	for _, t := range kr.Trials {
		secs = append(secs, t.Seconds)
	}
	if len(secs) > 0 {
		slices.Sort(secs)
		kr.MedianSeconds, kr.MaxSeconds = secs[len(secs)/2], secs[len(secs)-1]
	}
	return nil
}

// awaitVersion waits until version v of the small model answers.
func awaitVersion(ctx context.Context, addr string, v int) error {
	adm := newAdminClient(addr, SmallModel)
	defer adm.close()
	return adm.await(ctx, DefaultCycleTimeout, fmt.Sprintf("version %d ready", v), func(m *adminModel) bool {
		mv := m.version(v)
		return mv != nil && mv.State == "READY"
	})
}

// awaitOutcome polls rollout.json in modelDir until the rollout of
// version v ends: promoted (v is stable), rolled back (no candidate, v not
// stable, after the rollout started) or paused, or until timeout.
func awaitOutcome(ctx context.Context, modelDir string, v int, start time.Time, timeout time.Duration) (JudgmentTrial, error) {
	deadline := start.Add(timeout)
	started := false
	for {
		st, err := rollout.ReadState(modelDir)
		if err == nil && st != nil {
			switch {
			case st.Candidate == v && st.Paused:
				return JudgmentTrial{Outcome: "paused", Seconds: time.Since(start).Seconds(), Reason: st.Reason}, nil
			case st.Candidate == v:
				started = true
			case st.Stable == v:
				return JudgmentTrial{Outcome: "promoted", Seconds: time.Since(start).Seconds(), Reason: st.Reason}, nil
			case started && st.Candidate == 0:
				return JudgmentTrial{Outcome: "rolled back", Seconds: time.Since(start).Seconds(), Reason: st.Reason}, nil
			}
		}
		if time.Now().After(deadline) {
			return JudgmentTrial{Outcome: "timed out", Seconds: time.Since(start).Seconds()}, nil
		}
		select {
		case <-ctx.Done():
			return JudgmentTrial{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startTraffic sends the bodies in turn to url at about rate requests a
// second, over 8 connections, counting the failed ones, until the
// returned function is called.
func startTraffic(client *fasthttp.HostClient, url string, bodies [][]byte, rate int, failed *uint64) (stop func()) {
	const workers = 8
	var wg sync.WaitGroup
	done := make(chan struct{})
	var next atomic.Uint64
	var fails atomic.Uint64
	for range workers {
		wg.Go(func() {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			tick := time.NewTicker(time.Second * workers / time.Duration(rate))
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
				}
				i := next.Add(1)
				req.SetRequestURI(url)
				req.Header.SetMethod(fasthttp.MethodPost)
				req.Header.SetContentType("application/json")
				req.SetBodyRaw(bodies[i%uint64(len(bodies))])
				if err := client.DoTimeout(req, resp, DefaultTimeout); err != nil || resp.StatusCode() != fasthttp.StatusOK {
					fails.Add(1)
				}
			}
		})
	}
	return func() {
		close(done)
		wg.Wait()
		*failed = fails.Load()
	}
}

// medianLatency sends n requests to url one after another, the bodies in
// turn, and returns their median latency.
func medianLatency(client *fasthttp.HostClient, url string, bodies [][]byte, n int) time.Duration {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	lat := make([]time.Duration, 0, n)
	for i := range n {
		req.SetRequestURI(url)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(bodies[i%len(bodies)])
		t := time.Now()
		if err := client.DoTimeout(req, resp, DefaultTimeout); err == nil && resp.StatusCode() == fasthttp.StatusOK {
			lat = append(lat, time.Since(t))
		}
	}
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return lat[len(lat)/2]
}

// burnCPU starts n goroutines that spin until the returned function is
// called: a competing workload on the same cores as the server.
func burnCPU(n int) (stop func()) {
	var wg sync.WaitGroup
	var done atomic.Bool
	for range n {
		wg.Go(func() {
			x := 1.0
			for !done.Load() {
				for range 10000 {
					x = math.Sqrt(x + 1)
				}
			}
			_ = x
		})
	}
	return func() { done.Store(true); wg.Wait() }
}

// joinInts writes vs comma-separated.
func joinInts(vs []int) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ", ")
}

// short returns the first clause of a controller reason.
func short(reason string) string {
	if i := strings.Index(reason, ";"); i >= 0 {
		reason = reason[:i]
	}
	return reason
}

// WriteText writes the report as a table for people to read.
func (r *JudgmentReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "rollout judgment: %d rollouts of each kind, canary steps %v bp with the default bounds, %d CPU burners in the bench process\n",
		r.Trials, r.Steps, r.Burners)
	fmt.Fprintf(&b, "%-10s %-12s %8s %6s %10s %10s %10s %12s %12s %8s\n", "kind", "want", "req/s", "bake", "good", "median s", "max s",
		"stable p50", "cand p50", "failed")
	for _, k := range r.Kinds {
		fmt.Fprintf(&b, "%-10s %-12s %8d %6s %5d/%-4d %10.1f %10.1f %12s %12s %8d\n", k.Kind, k.Want, k.Rate, k.Bake,
			k.Good, len(k.Trials), k.MedianSeconds, k.MaxSeconds, formatDuration(k.StableLatency), formatDuration(k.CandidateLatency), k.Failed)
	}
	for _, k := range r.Kinds {
		for i, t := range k.Trials {
			if t.Outcome != k.Want {
				fmt.Fprintf(&b, "%s trial %d: %s after %.1fs: %s\n", k.Kind, i+1, t.Outcome, t.Seconds, t.Reason)
			}
		}
	}
	if len(r.Kinds) > 0 && len(r.Kinds[len(r.Kinds)-1].Trials) > 0 {
		for _, k := range r.Kinds {
			if len(k.Trials) > 0 {
				fmt.Fprintf(&b, "%s, last trial: %s\n", k.Kind, k.Trials[len(k.Trials)-1].Reason)
			}
		}
	}
	for _, g := range r.Goals {
		verdict := "FAIL"
		if g.Pass {
			verdict = "pass"
		}
		fmt.Fprintf(&b, "goal: %s: %.0f of %.0f: %s\n", g.Name, g.Value, g.Target, verdict)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
