package rollout_test

import (
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/rollout"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of the transcripts in testdata")

// TestDecideTranscripts replays the scripts in testdata/decide_*.txt, as
// etcd-io/raft's datadriven tests do: each case is a command line, input
// lines, "----", and the expected output up to a blank line. Lines that
// start with # are comments. With -rewrite the expected output is
// replaced by what the code gives; review the diff before committing it.
//
// Commands:
//
//	policy [key=value ...]
//	    Sets the policy of the cases that follow: the defaults with the
//	    given policy.yaml keys overridden (steps=5%,50%,100%,
//	    shadow.then=canary, failure_limit=3). Prints "ok" or the
//	    Validate error.
//	decide STRATEGY [step=N] [weight=N] [paused] [analysed_at=N] [breaches=N] [passed] at=DURATION
//	    Decides at DURATION after the step began (STRATEGY "" is the
//	    empty one), with input lines:
//	      candidate|stable requests=N [errors=N] [latency=D | latency=D:N,D:N... | latency=D~D] [scores=S:N,S:N...]
//	        (errors are the first N requests; latency defaults to 1ms; D~D
//	        spreads the latencies evenly between two bounds)
//	      earlier   (the stable line is stable's last window: Stats.BaselineEarlier)
//	      accuracy [candidate=F] [stable=F]
//	      agreement compared=N same=N [diff=F]   (diff: each comparison's score difference)
//	    Prints the action, strategy, step and weight, then the reasons.
func TestDecideTranscripts(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "decide_*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) { runTranscript(t, path) })
	}
}

func runTranscript(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var out strings.Builder
	p := rollout.DefaultPolicy()
	for i := 0; i < len(lines); {
		if line := lines[i]; strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			out.WriteString(line + "\n")
			i++
			continue
		}
		at, cmd := i+1, lines[i]
		i++
		var input []string
		for ; i < len(lines) && lines[i] != "----"; i++ {
			input = append(input, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("%s:%d: %q has no ---- line", path, at, cmd)
		}
		i++
		var want []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			want = append(want, lines[i])
		}
		got, err := runCommand(&p, cmd, input)
		if err != nil {
			t.Fatalf("%s:%d: %s: %v", path, at, cmd, err)
		}
		if !*rewrite && got != strings.Join(want, "\n") {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, at, cmd, got, strings.Join(want, "\n"))
		}
		out.WriteString(strings.Join(append(append([]string{cmd}, input...), "----", got), "\n") + "\n")
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// transcriptStart is when every transcript's step began.
var transcriptStart = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// runCommand runs one transcript command and returns its output; an error
// is a broken script, not a result.
func runCommand(p *rollout.Policy, cmd string, input []string) (string, error) {
	name, args, _ := strings.Cut(cmd, " ")
	switch name {
	case "policy":
		if len(input) > 0 {
			return "", fmt.Errorf("policy takes no input lines")
		}
		*p = rollout.DefaultPolicy()
		for _, kv := range strings.Fields(args) {
			if err := setPolicy(p, kv); err != nil {
				return "", err
			}
		}
		if err := p.Validate(); err != nil {
			return err.Error(), nil
		}
		return "ok", nil
	case "decide":
		return runDecide(*p, strings.Fields(args), input)
	}
	return "", fmt.Errorf("unknown command %q", name)
}

func setPolicy(p *rollout.Policy, kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok {
		return fmt.Errorf("%q: want key=value", kv)
	}
	var err error
	switch k {
	case "on_publish":
		p.OnPublish = v
	case "steps":
		p.Steps = nil
		for _, s := range strings.Split(v, ",") {
			w, werr := rollout.ParseWeight(s)
			if werr != nil {
				return werr
			}
			p.Steps = append(p.Steps, w)
		}
	case "bake":
		p.Bake, err = time.ParseDuration(v)
	case "watch":
		p.Watch, err = time.ParseDuration(v)
	case "min_requests":
		p.MinRequests, err = strconv.Atoi(v)
	case "keep_previous":
		p.KeepPrevious, err = strconv.Atoi(v)
	case "max_bake":
		p.MaxBake, err = time.ParseDuration(v)
	case "failure_limit":
		p.FailureLimit, err = strconv.Atoi(v)
	case "critical_error_rate":
		p.CriticalErrorRate, err = strconv.ParseFloat(v, 64)
	case "max_latency_increase":
		p.MaxLatencyIncrease, err = strconv.ParseFloat(v, 64)
	case "min_latency_delta":
		p.MinLatencyDelta, err = time.ParseDuration(v)
	case "max_error_rate_delta":
		p.MaxErrorRateDelta, err = strconv.ParseFloat(v, 64)
	case "max_score_psi":
		p.MaxScorePSI, err = strconv.ParseFloat(v, 64)
	case "max_accuracy_drop":
		p.MaxAccuracyDrop, err = strconv.ParseFloat(v, 64)
	case "shadow.min_requests":
		p.Shadow.MinRequests, err = strconv.Atoi(v)
	case "shadow.min_agreement":
		p.Shadow.MinAgreement, err = strconv.ParseFloat(v, 64)
	case "shadow.then":
		p.Shadow.Then = v
	default:
		return fmt.Errorf("unknown policy key %q", k)
	}
	return err
}

func runDecide(p rollout.Policy, args, input []string) (string, error) {
	if len(args) == 0 {
		return "", fmt.Errorf("decide needs a strategy")
	}
	strategy := args[0]
	if strategy == `""` {
		strategy = ""
	}
	pr := rollout.Progress{Strategy: strategy, StepStarted: transcriptStart}
	var elapsed time.Duration
	for _, a := range args[1:] {
		k, v, _ := strings.Cut(a, "=")
		var err error
		switch k {
		case "step":
			pr.Step, err = strconv.Atoi(v)
		case "weight":
			pr.Weight, err = strconv.Atoi(v)
		case "paused":
			pr.Paused = true
		case "analysed_at":
			pr.AnalysedAt, err = strconv.ParseUint(v, 10, 64)
		case "breaches":
			pr.Breaches, err = strconv.Atoi(v)
		case "passed":
			pr.Passed = true
		case "at":
			elapsed, err = time.ParseDuration(v)
		default:
			err = fmt.Errorf("unknown argument %q", a)
		}
		if err != nil {
			return "", err
		}
	}
	var st rollout.Stats
	for _, line := range input {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var err error
		switch fields[0] {
		case "candidate":
			st.Candidate, st.CandidateSamples, err = armSnapshot(fields[1:])
		case "stable":
			st.Stable, st.StableSamples, err = armSnapshot(fields[1:])
		case "earlier": // the stable line is stable's last window, not this one
			st.BaselineEarlier = true
		case "accuracy":
			st.CandidateAccuracy, st.StableAccuracy, err = accuracies(fields[1:])
		case "agreement":
			st.Agreement, err = agreement(fields[1:])
		default:
			err = fmt.Errorf("unknown input %q", fields[0])
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", line, err)
		}
	}
	d := rollout.Decide(p, pr, st, transcriptStart.Add(elapsed))
	if d.Strategy == "" {
		d.Strategy = `""`
	}
	head := fmt.Sprintf("%s %s step=%d weight=%d", d.Action, d.Strategy, d.Step, d.Weight)
	if d.Analysed {
		head += fmt.Sprintf(" (analysed at %d: breaches=%d passed=%v)", d.AnalysedAt, d.Breaches, d.Passed)
	}
	return strings.Join(append([]string{head}, d.Reasons...), "\n"), nil
}

// armSnapshot records an arm's requests into a real ArmStats, as the
// request path would, and returns its snapshot and its samples (each
// success's latency, and the scores in order, one per success).
func armSnapshot(fields []string) (rollout.StatsSnapshot, rollout.ArmSamples, error) {
	var requests, errs int
	latency, scores := "1ms", ""
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		var err error
		switch k {
		case "requests":
			requests, err = strconv.Atoi(v)
		case "errors":
			errs, err = strconv.Atoi(v)
		case "latency":
			latency = v
		case "scores":
			scores = v
		default:
			err = fmt.Errorf("unknown field %q", k)
		}
		if err != nil {
			return rollout.StatsSnapshot{}, rollout.ArmSamples{}, err
		}
	}
	var lat []time.Duration
	if lo, hi, ok := strings.Cut(latency, "~"); ok { // evenly spread from lo to hi
		l, err := time.ParseDuration(lo)
		if err != nil {
			return rollout.StatsSnapshot{}, rollout.ArmSamples{}, err
		}
		h, err := time.ParseDuration(hi)
		if err != nil {
			return rollout.StatsSnapshot{}, rollout.ArmSamples{}, err
		}
		latency = ""
		for i := range requests {
			lat = append(lat, l+(h-l)*time.Duration(i)/time.Duration(max(requests-1, 1)))
		}
	} else if !strings.Contains(latency, ":") {
		latency += ":" + strconv.Itoa(requests)
	}
	for _, part := range strings.Split(latency, ",") {
		if part == "" {
			continue
		}
		d, n, err := durationCount(part)
		if err != nil {
			return rollout.StatsSnapshot{}, rollout.ArmSamples{}, err
		}
		for range n {
			lat = append(lat, d)
		}
	}
	if len(lat) != requests {
		return rollout.StatsSnapshot{}, rollout.ArmSamples{}, fmt.Errorf("latency %q counts %d requests, not %d", latency, len(lat), requests)
	}
	var a rollout.ArmStats
	var samples rollout.ArmSamples
	for i, d := range lat {
		if i < errs {
			a.RecordError(transcriptStart, d)
		} else {
			a.RecordSuccess(transcriptStart, d, math.NaN())
			samples.Latencies = append(samples.Latencies, int64(d))
		}
	}
	if scores != "" {
		for _, part := range strings.Split(scores, ",") {
			sv, nv, _ := strings.Cut(part, ":")
			s, err := strconv.ParseFloat(sv, 64)
			if err != nil {
				return rollout.StatsSnapshot{}, rollout.ArmSamples{}, err
			}
			n, err := strconv.Atoi(nv)
			if err != nil {
				return rollout.StatsSnapshot{}, rollout.ArmSamples{}, err
			}
			for range n {
				a.RecordScore(s)
				samples.Scores = append(samples.Scores, float32(s))
			}
		}
	}
	return a.Snapshot(), samples, nil
}

func durationCount(s string) (time.Duration, int, error) {
	dv, nv, _ := strings.Cut(s, ":")
	d, err := time.ParseDuration(dv)
	if err != nil {
		return 0, 0, err
	}
	n, err := strconv.Atoi(nv)
	return d, n, err
}

func accuracies(fields []string) (candidate, stable *float64, err error) {
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, nil, err
		}
		switch k {
		case "candidate":
			candidate = &x
		case "stable":
			stable = &x
		default:
			return nil, nil, fmt.Errorf("unknown field %q", k)
		}
	}
	return candidate, stable, nil
}

// agreement records comparisons into a real AgreementStats.
func agreement(fields []string) (rollout.Agreement, error) {
	var compared, same int
	var diff float64
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		var err error
		switch k {
		case "compared":
			compared, err = strconv.Atoi(v)
		case "same":
			same, err = strconv.Atoi(v)
		case "diff":
			diff, err = strconv.ParseFloat(v, 64)
		default:
			err = fmt.Errorf("unknown field %q", k)
		}
		if err != nil {
			return rollout.Agreement{}, err
		}
	}
	var g rollout.AgreementStats
	for i := range compared {
		if i < same {
			g.RecordMatch(diff)
		} else {
			g.RecordMismatch(diff)
		}
	}
	return g.Snapshot(), nil
}

// TestDecideIsPure checks that Decide gives the same Decision for the
// same inputs, modifies none of them, and returns Reasons of the caller's
// own.
func TestDecideIsPure(t *testing.T) {
	p := rollout.DefaultPolicy()
	var cand, stable rollout.ArmStats
	var cs, ss rollout.ArmSamples
	for i := range 1000 {
		cand.RecordSuccess(transcriptStart, time.Duration(i)*time.Microsecond, 0.3)
		stable.RecordSuccess(transcriptStart, time.Duration(i)*time.Microsecond, 0.3)
		cand.RecordScore(0.3)
		stable.RecordScore(0.3)
		cs.Latencies, cs.Scores = append(cs.Latencies, int64((999-i)*1000)), append(cs.Scores, 0.3) // unsorted
		ss.Latencies, ss.Scores = append(ss.Latencies, int64(i*1000)), append(ss.Scores, 0.3)
	}
	acc := 0.9
	st := rollout.Stats{Candidate: cand.Snapshot(), Stable: stable.Snapshot(), CandidateSamples: cs, StableSamples: ss,
		CandidateAccuracy: &acc, StableAccuracy: &acc}
	pr := rollout.Progress{Strategy: rollout.Canary, Step: 1, Weight: 2500, StepStarted: transcriptStart}
	now := transcriptStart.Add(time.Minute)
	first := rollout.Decide(p, pr, st, now)
	if first.Action != rollout.Advance || first.Step != 2 || first.Weight != 5000 {
		t.Fatalf("Decide = %+v; want advance to step 2", first)
	}
	first.Reasons[0] = "changed by the caller"
	second := rollout.Decide(p, pr, st, now)
	if second.Reasons[0] == first.Reasons[0] {
		t.Fatal("two Decisions share their Reasons")
	}
	first.Reasons = second.Reasons
	if !reflect.DeepEqual(first, second) {
		t.Fatalf("Decide differs on the same inputs:\n%+v\n%+v", first, second)
	}
	if want := rollout.DefaultPolicy(); !reflect.DeepEqual(p, want) || acc != 0.9 || st.Candidate != cand.Snapshot() ||
		slices.IsSorted(cs.Latencies) || cs.Latencies[0] != 999000 {
		t.Fatal("Decide modified its inputs")
	}
}

func TestDecisionLogValue(t *testing.T) {
	var buf strings.Builder
	d := rollout.Decision{Action: rollout.RollBack, Strategy: rollout.Canary, Reasons: []string{"why"}}
	slog.New(slog.NewTextHandler(&buf, nil)).Info("decided", "decision", d)
	if want := `decision.action=rollback decision.strategy=canary decision.step=0 decision.weight=0 decision.analysed=false decision.breaches=0 decision.reasons=[why]`; !strings.Contains(buf.String(), want) {
		t.Fatalf("logged %q; want it to contain %q", buf.String(), want)
	}
}
