package modelstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/switchyard-ml/switchyard/rollout"
)

// desiredState is what the reconciler knows of a model's rollout.json.
type desiredState struct {
	raw  []byte // the file as last read, to notice edits
	read bool
	// state is the last good state in force; nil without rollout.json.
	state *rollout.State
}

// readDesired reads the model's rollout.json if it changed since the last
// pass, and checks the state in force against the versions on disk. A
// malformed or contradictory state (an unknown version, a weight out of
// range, a candidate equal to stable) is refused with a logged reason and
// the last good state keeps serving; removing the file returns the model
// to its default (the newest ready version serves).
func (s *Store) readDesired(m *model, onDisk map[int]struct{}) {
	data, err := os.ReadFile(filepath.Join(m.dir, rollout.StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		data, err = nil, nil
	}
	if err != nil {
		s.log.Error("cannot read rollout.json; the last good state stays in force", "model", m.name, "error", err)
		return
	}
	if m.desired.read && bytes.Equal(data, m.desired.raw) {
		return
	}
	m.desired.raw, m.desired.read = data, true
	if data == nil {
		if m.desired.state != nil {
			s.log.Info("rollout.json removed: the newest ready version serves", "model", m.name)
		}
		m.desired.state = nil
		s.snapshot(m)
		return
	}
	st, err := rollout.ParseState(data)
	if err == nil {
		err = st.Validate(func(n int) bool {
			_, ok := onDisk[n]
			v := m.versions[n]
			return ok && (v == nil || v.State() != Failed)
		})
	}
	if err != nil {
		s.log.Error("rollout.json refused; the last good state stays in force", "model", m.name, "error", err)
		if a := s.cfg.Auditor; a != nil {
			reason := "rollout.json refused; the last good state stays in force: " + err.Error()
			s.work.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
				defer cancel()
				if err := a.AuditRefusal(ctx, m.name, reason); err != nil {
					s.log.Error("refusal not audited", "model", m.name, "error", err)
				}
			})
		}
		return
	}
	m.desired.state = st
	s.snapshot(m)
	s.log.Info("rollout.json applied", "model", m.name, "stable", st.Stable, "candidate", st.Candidate,
		"weight_bp", st.Weight, "strategy", st.Strategy, "actor", st.Actor, "reason", st.Reason)
}

// Change computes a model's next rollout state; see rollout.Plan.
type Change = rollout.Plan

// Desire changes a model's rollout state: the reconciler computes the next
// state with change, checks it against the versions that exist, writes
// rollout.json atomically and routes by it before Desire returns, so the
// next request follows it. It fails with ErrNotFound for an unknown model
// and with the error of change or the check (wrapping rollout.ErrState).
func (s *Store) Desire(ctx context.Context, model string, change Change) (*rollout.State, error) {
	var st *rollout.State
	if err := s.ask(ctx, command{op: opDesire, model: model, change: change, result: &st}); err != nil {
		return nil, err
	}
	return st, nil
}

// desire carries out Desire on the reconciler's goroutine.
func (s *Store) desire(ctx context.Context, name string, change Change) (*rollout.State, error) {
	m := s.models[name]
	if m == nil {
		return nil, fmt.Errorf("model %q: %w", name, ErrNotFound)
	}
	serving := versionNumber(m.stable())
	previous := 0
	for _, n := range slices.Backward(m.numbers()) {
		if v := m.versions[n]; n < serving && !v.gone && v.State() != Failed {
			previous = n
			break
		}
	}
	next, err := change(m.desired.state, serving, previous)
	if err != nil {
		return nil, err
	}
	err = next.Validate(func(n int) bool {
		v := m.versions[n]
		return v != nil && !v.gone && v.State() != Failed
	})
	if err != nil {
		return nil, err
	}
	if err := rollout.WriteState(m.dir, next); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(m.dir, rollout.StateFile))
	if err != nil {
		return nil, fmt.Errorf("read back rollout.json: %w", err)
	}
	m.desired.raw, m.desired.read, m.desired.state = raw, true, next
	s.snapshot(m)
	s.log.Info("rollout.json written", "model", name, "stable", next.Stable, "candidate", next.Candidate,
		"weight_bp", next.Weight, "strategy", next.Strategy, "paused", next.Paused, "actor", next.Actor, "reason", next.Reason)
	s.pass(ctx, name)
	return next, nil
}

// Rollouts returns every model's rollout as the controller sees it: its
// rollout.json, policy, serving version, the newest ready version above
// it, and the statistics of its ready versions. It reads the snapshots
// and takes no lock.
func (s *Store) Rollouts() []rollout.Live {
	models := s.Models()
	out := make([]rollout.Live, 0, len(models))
	for _, m := range models {
		l := rollout.Live{Model: m.Name, State: m.Rollout, Policy: m.Policy, Serving: versionNumber(m.Stable),
			Arms: map[int]*rollout.ArmStats{}, Agreements: map[int]*rollout.AgreementStats{}}
		for _, v := range m.Versions {
			if v.State() != Ready {
				continue
			}
			l.Arms[v.Number], l.Agreements[v.Number] = &v.Stats, &v.Agreement
			if v.Number > l.Serving && v.Number > l.Newest {
				l.Newest = v.Number
				if v.Manifest != nil {
					l.NewestPublished = v.Manifest.CreatedAt
				}
			}
		}
		out = append(out, l)
	}
	return out
}
