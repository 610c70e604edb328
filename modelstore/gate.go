package modelstore

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
)

// VerdictRecorder keeps the gate's verdicts: the tracking store and the
// audit trail. The Store calls it from the gating goroutine, never the
// reconciler's, before the verdict takes effect.
type VerdictRecorder interface {
	RecordVerdict(ctx context.Context, model string, version int, v *gate.Verdict) error
}

// recordTimeout bounds how long a gate waits for its verdict to be
// recorded; past it the verdict takes effect anyway and the failure is
// logged.
const recordTimeout = 10 * time.Second

// startGates starts the gate of each of m's Gating versions whose
// baseline (see baseline) is ready, or has none, and of each Ready version
// to judge again (m.rejudge); the others wait for theirs, which wanted
// keeps loading. The version that serves is judged again on its own, with
// no baseline.
func (s *Store) startGates(ctx context.Context, m *model) {
	pol := gate.Policy{}
	if m.policy.lastGood != nil {
		pol = m.policy.lastGood.Gate
	}
	gen := m.policy.gen
	for _, n := range m.numbers() {
		v := m.versions[n]
		phase := phaseGated
		switch st := v.State(); {
		case v.judging:
			continue
		case st == Ready && m.rejudge[v]:
			phase = phaseRejudged
		case st != Gating:
			continue
		}
		b := m.baseline(v)
		if phase == phaseRejudged && v == m.stable() {
			b = nil
		}
		if b != nil && b.State() != Ready {
			continue
		}
		v.judging = true
		delete(m.rejudge, v)
		dir := m.dir
		s.spawn(ctx, func(ctx context.Context) outcome {
			verdict, err := s.judge(ctx, v, b, pol, dir)
			return outcome{v: v, phase: phase, verdict: verdict, gen: gen, err: err}
		})
	}
}

// baseline returns the version the gate compares v with: the stable
// version rollout.json names (none when that is v itself); without
// rollout.json, the version that serves, or, when none does (a start),
// for the newest version the next newest that has not failed, which
// would serve if v did not pass (that one is judged on its own). It
// returns nil when there is none, or when the one named failed or left
// the registry.
func (m *model) baseline(v *Version) *Version {
	var b *Version
	switch st := m.desired.state; {
	case st != nil && st.Stable == v.Number:
		return nil
	case st != nil:
		b = m.versions[st.Stable]
	case m.stable() != nil:
		b = m.stable()
	default:
		var below []*Version // the versions that may serve, newest first
		for _, n := range slices.Backward(m.numbers()) {
			if w := m.versions[n]; !w.gone && w.State() != Failed {
				below = append(below, w)
			}
		}
		if len(below) > 1 && below[0] == v {
			b = below[1]
		}
	}
	if b == nil || b == v || b.gone || b.State() == Failed {
		return nil
	}
	return b
}

// judge runs the gate on candidate, with stable (nil when none serves) as
// the comparison, under the model's gate policy, and records the verdict.
// It returns an error only when ctx ends first.
func (s *Store) judge(ctx context.Context, candidate, stable *Version, pol gate.Policy, modelDir string) (*gate.Verdict, error) {
	verdict, err := evaluate(ctx, candidate, stable, pol, modelDir)
	if err != nil {
		return nil, err
	}
	if s.cfg.Verdicts != nil {
		rctx, cancel := context.WithTimeout(ctx, recordTimeout)
		err := s.cfg.Verdicts.RecordVerdict(rctx, candidate.Model, candidate.Number, verdict)
		cancel()
		if err != nil {
			s.log.Error("gate verdict not recorded", "model", candidate.Model, "version", candidate.Number, "error", err)
		}
	}
	return verdict, nil
}

// evaluate finds the candidate's evaluation set and runs the gate on it.
func evaluate(ctx context.Context, candidate, stable *Version, pol gate.Policy, modelDir string) (*gate.Verdict, error) {
	name := "version " + candidate.Label
	path, err := evalSetOf(candidate.Dir, modelDir)
	if errors.Is(err, fs.ErrNotExist) {
		return gate.NoEvalSet(pol, name, fmt.Sprintf("no %s in %s/%s or %s", EvalFile, candidate.Model, candidate.Label, candidate.Model)), nil
	}
	if err != nil {
		return gate.Refuse(name, fmt.Sprintf("the eval set of %s cannot be read: %v.", name, err)), nil
	}
	layout, err := gate.LayoutOf(candidate.Signature)
	if err != nil {
		return gate.Refuse(name, fmt.Sprintf("the gate cannot evaluate %s: %v.", name, err)), nil
	}
	label := ""
	if candidate.Manifest != nil {
		label = candidate.Manifest.EvalLabel
	}
	if pol.Label == "" && label == "" {
		return gate.Refuse(name, fmt.Sprintf("%s has no label column named: set gate.label in %s or publish with --label.", path, PolicyFile)), nil
	}
	f, err := gate.OpenEvalSet(path, 0)
	if err != nil {
		return gate.Refuse(name, fmt.Sprintf("the eval set of %s cannot be read: %v.", name, err)), nil
	}
	in := bufio.NewReaderSize(&pacedReader{r: f, ctx: ctx}, evalReadChunk)
	set, err := gate.ReadEvalSet(in, pol.EvalConfig(label, layout.Classes, layout.Width, candidate.Manifest.GateColumns()))
	f.Close()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return gate.Refuse(name, fmt.Sprintf("%s: %v.", path, err)), nil
	}
	subject := gate.Subject{Name: name, Classes: layout.Classes, Width: layout.Width, Predictor: predictorOf(candidate, layout)}
	var baseline *gate.Subject
	if stable != nil && stable != candidate {
		baseline = &gate.Subject{Name: "version " + stable.Label, Classes: layout.Classes, Width: layout.Width}
		if l, err := gate.LayoutOf(stable.Signature); err != nil {
			baseline.Predictor = failingPredictor{err}
		} else {
			baseline.Classes, baseline.Width, baseline.Predictor = l.Classes, l.Width, predictorOf(stable, l)
		}
	}
	return gate.Run(ctx, pol, set, subject, baseline)
}

// evalReadChunk is how much of an evaluation set pacedReader hands the
// parser at a time: a few milliseconds of parsing.
const evalReadChunk = 256 << 10

// pacedReader reads an evaluation set for a parser that may use at most
// half of one core: before each read it sleeps as long as the parser
// worked on the previous chunk. Parsing a large eval.csv is the gate's
// biggest cost, and on a small machine it would otherwise take a core
// from live traffic for as long as it runs (see bench --gate-cost).
type pacedReader struct {
	r    io.Reader
	ctx  context.Context
	last time.Time // when the previous read returned; zero before the first
}

// Read implements io.Reader.
func (p *pacedReader) Read(b []byte) (int, error) {
	if !p.last.IsZero() {
		t := time.NewTimer(time.Since(p.last))
		select {
		case <-t.C:
		case <-p.ctx.Done():
			t.Stop()
			return 0, p.ctx.Err()
		}
	}
	n, err := p.r.Read(b)
	p.last = time.Now()
	return n, err
}

// evalSetOf returns the path of a version's evaluation set: its own, or
// its model's.
func evalSetOf(versionDir, modelDir string) (string, error) {
	for _, dir := range []string{versionDir, modelDir} {
		path := filepath.Join(dir, EvalFile)
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			return path, err
		}
	}
	return "", fs.ErrNotExist
}

// GateColumns maps the manifest's feature schema onto the gate's columns,
// so that eval.csv holds the same named fields as a record: numbers and
// integers as themselves, bools as true/false or 1/0, categories by value
// (encoded as the schema says, index or one-hot). It returns nil when m is
// nil or has no features, so that the evaluation set's columns map by
// position, and when the features feed more than one input, which the
// gate cannot evaluate (gate.LayoutOf refuses such a model). The schema
// is assumed checked against the model (Schema.Check), as the loader does.
func (m *Manifest) GateColumns() []gate.Column {
	if m == nil || len(m.Features) == 0 || m.Signature != nil && len(m.Signature.Inputs) != 1 {
		return nil
	}
	input := "" // the input some feature names; a checked schema names at most one on a one-input model
	for _, f := range m.Features {
		if f.Input != "" && input != "" && f.Input != input {
			return nil
		}
		input = cmp.Or(f.Input, input)
	}
	cols := make([]gate.Column, len(m.Features))
	for i, f := range m.Features {
		cols[i] = gate.Column{Name: f.Name, Position: f.Position}
		switch f.Type {
		case TypeCategory:
			cols[i].Category, cols[i].OneHot = f.Values, f.Encoding == EncodeOneHot
		case TypeBool:
			cols[i].Bool = true
		}
	}
	return cols
}

// predictorOf runs a loaded version for the gate through its batch
// queue, so that the gate's batches take their turn with live requests
// instead of competing with them for the cores. The version's state is
// not checked: the gate runs it while it is Gating.
func predictorOf(v *Version, l gate.Layout) gate.Predictor {
	run := func(ctx context.Context, in, out []engine.Tensor) error {
		r := &Request{In: in, Out: out}
		var retry *time.Timer // made at the first full queue, then reused
		defer func() {
			if retry != nil {
				retry.Stop()
			}
		}()
		for {
			err := v.infer(r)
			if !errors.Is(err, batcher.ErrQueueFull) {
				copy(out, r.Out)
				return err
			}
			if retry == nil {
				retry = time.NewTimer(queueFullRetry)
			} else {
				retry.Reset(queueFullRetry) // fired and drained below, so safe to reset
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-retry.C:
			}
		}
	}
	return gate.NewPredictor(run, v.Signature, l)
}

// queueFullRetry is how long the gate waits before it offers a batch
// again to a queue that was full.
const queueFullRetry = 5 * time.Millisecond

// failingPredictor stands for a version the gate cannot run.
type failingPredictor struct{ err error }

// Predict implements gate.Predictor.
func (p failingPredictor) Predict(context.Context, []float32, int, []float64) error { return p.err }

// verdictReason is the reason a version that failed its gate is Failed
// with: every reason of the verdict.
func verdictReason(v *gate.Verdict) string {
	return "gate: " + strings.Join(v.Reasons, " ")
}
