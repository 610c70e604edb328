package modelstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	f, err := os.Open(path)
	if err != nil {
		return gate.Refuse(name, fmt.Sprintf("the eval set of %s cannot be read: %v.", name, err)), nil
	}
	set, err := gate.ReadEvalSet(f, pol.EvalConfig(label, layout.Classes, layout.Width, columnsOf(candidate.Manifest)))
	f.Close()
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

// columnsOf maps a manifest's feature schema onto the gate's columns; nil
// when the manifest has none, so that the eval set's columns map by
// position.
func columnsOf(m *Manifest) []gate.Column {
	if m == nil || len(m.Features) == 0 {
		return nil
	}
	cols := make([]gate.Column, len(m.Features))
	for i, f := range m.Features {
		cols[i] = gate.Column{Name: f.Name, Position: f.Position}
		if f.Type == "category" {
			cols[i].Category = f.Values
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
		for {
			err := v.infer(r)
			if !errors.Is(err, batcher.ErrQueueFull) {
				copy(out, r.Out)
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(queueFullRetry):
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
