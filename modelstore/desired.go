package modelstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/switchyard-ml/switchyard/internal/errtext"
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
	data, err := rollout.ReadStateFile(m.dir)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = nil, nil
	}
	if err != nil {
		s.log.Error("cannot read rollout.json; the last good state stays in force", "model", m.name, "error", err)
		return
	}
	if m.persist.state != nil {
		switch {
		case bytes.Equal(data, m.persist.data): // a write that reported failure landed after all
			s.written(m, data)
			return
		case bytes.Equal(data, m.desired.raw): // stale: the state in force waits to be written
			return
		}
		s.superseded(m)
	}
	if !m.desired.read && s.cfg.PendingWrites != nil && s.recall(m, data, onDisk) {
		s.snapshot(m)
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
		err = s.checkState(m, st, onDisk)
	}
	if err != nil {
		s.log.Error("rollout.json refused; the last good state stays in force", "model", m.name, "error", err)
		if a := s.cfg.Auditor; a != nil {
			reason := "rollout.json refused; the last good state stays in force: " + errtext.Text(err)
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
	s.readmit(m)
	s.snapshot(m)
	s.log.Info("rollout.json applied", "model", m.name, "stable", st.Stable, "candidate", st.Candidate,
		"weight_bp", st.Weight, "strategy", st.Strategy, "actor", st.Actor, "reason", st.Reason)
}

// checkState checks st against m's versions on disk: each version it
// routes exists and may serve (see routable).
func (s *Store) checkState(m *model, st *rollout.State, onDisk map[int]struct{}) error {
	return st.Validate(func(n int) bool {
		_, ok := onDisk[n]
		v := m.versions[n]
		return ok && (v == nil || routable(v, st))
	})
}

// Change computes a model's next rollout state; see rollout.Plan.
type Change = rollout.Plan

// Desire changes a model's rollout state: the reconciler computes the next
// state with change, checks it against the versions that exist, puts it in
// force and routes by it (in memory first, so the next request follows
// it), then writes rollout.json atomically, all before Desire returns. It
// fails with ErrNotFound for an unknown model and with the error of change
// or the check (wrapping rollout.ErrState), which refuses to route a
// version that failed its gate.
//
// A rollout.json that cannot be written (a read-only or full registry) is
// not an error of Desire: the state is in force and stays so. The model
// reports the failure (Model.PersistError, the pending gauge, the log and
// the audit once) and the reconciler writes the file again with backoff
// until it succeeds. Meanwhile a rescan does not bring back the stale file;
// an edit of rollout.json on disk made after the change supersedes it.
func (s *Store) Desire(ctx context.Context, model string, change Change) (*rollout.State, error) {
	return s.desireCommand(ctx, command{op: opDesire, model: model, change: change})
}

// Force is Desire for a change that routes version although it failed its
// gate: the override is kept in rollout.json (gate_overrides), so the
// version loads again, is judged again (the verdict is still recorded)
// and serves despite it, also after a restart. A person asks for it, with
// a reason; switchyard never overrides a gate on its own. Forcing a
// version that did not fail its gate is a plain Desire.
func (s *Store) Force(ctx context.Context, model string, version int, change Change) (*rollout.State, error) {
	return s.desireCommand(ctx, command{op: opDesire, model: model, change: change, force: version})
}

func (s *Store) desireCommand(ctx context.Context, c command) (*rollout.State, error) {
	var st *rollout.State
	c.result = &st
	if err := s.ask(ctx, c); err != nil {
		return nil, err
	}
	return st, nil
}

// desire carries out Desire and Force on the reconciler's goroutine.
func (s *Store) desire(ctx context.Context, name string, change Change, force int) (*rollout.State, error) {
	m := s.models[name]
	if m == nil {
		return nil, fmt.Errorf("model %q: %w", name, ErrNotFound)
	}
	var versions []Standing
	for _, n := range m.numbers() {
		if v := m.versions[n]; !v.gone {
			versions = append(versions, Standing{Number: n, Failed: v.State() == Failed && !v.gateFailed,
				GateFailed: v.gateFailed, GateReason: strings.TrimPrefix(v.Reason(), "gate: ")})
		}
	}
	next, err := PlanChange(m.desired.state, versionNumber(m.stable()), versions, change, force)
	if err != nil {
		return nil, err
	}
	data, err := rollout.EncodeState(next)
	if err != nil {
		return nil, err
	}
	// Memory first: the route follows next before the disk is touched, so
	// a disk that cannot be written cannot hold a rollback back.
	m.desired.state = next
	s.readmit(m)
	s.route(m)
	s.persist(m, next, data)
	s.snapshot(m)
	s.log.Info("rollout state applied", "model", name, "stable", next.Stable, "candidate", next.Candidate,
		"weight_bp", next.Weight, "strategy", next.Strategy, "paused", next.Paused, "actor", next.Actor, "reason", next.Reason,
		"written", m.persist.state == nil)
	s.pass(ctx, name)
	return next, nil
}

// Standing is what a rollout change knows of one version in the
// registry: whether it can serve, and what its gate said.
type Standing struct {
	// Number is the version's number.
	Number int
	// Failed reports that the version cannot serve whatever rollout.json
	// says: it failed to load or was refused.
	Failed bool
	// GateFailed reports that the gate's latest verdict on the version
	// failed, GateReason saying why: it serves only where rollout.json
	// overrides the verdict (gate_overrides).
	GateFailed bool
	GateReason string
}

// PlanChange computes a model's next rollout state, without I/O: the
// reconciler (Desire, Force) and the offline path of package ops both plan
// with it, then apply the result their way. cur is the rollout.json in
// force (nil without one), serving the version that serves now, versions
// the model's versions in the registry, ascending, and force the version a
// person routes despite its failed gate (0 for none).
//
// change gets cur, serving and the previous version (the newest below
// serving that can serve). The state it returns keeps cur's gate overrides
// of versions still in the registry, adds force when its gate failed, and
// must route only versions that can serve: a version whose failed gate no
// override covers is refused with a *GateError (a rollout.ErrState), as is
// a state that fails rollout.State.Validate.
func PlanChange(cur *rollout.State, serving int, versions []Standing, change Change, force int) (*rollout.State, error) {
	find := func(n int) (Standing, bool) {
		i, ok := slices.BinarySearchFunc(versions, n, func(s Standing, n int) int { return cmp.Compare(s.Number, n) })
		if !ok {
			return Standing{}, false
		}
		return versions[i], true
	}
	previous := 0
	for _, v := range versions {
		if v.Number < serving && !v.Failed && (!v.GateFailed || cur.Overrides(v.Number)) {
			previous = v.Number
		}
	}
	next, err := change(cur, serving, previous)
	if err != nil {
		return nil, err
	}
	if next == cur { // no change: cur is in force and must not be modified
		kept := *cur
		next = &kept
	}
	var keep []int
	if cur != nil {
		for _, n := range cur.GateOverrides {
			if _, ok := find(n); ok {
				keep = append(keep, n)
			}
		}
	}
	if v, ok := find(force); ok && v.GateFailed && !slices.Contains(keep, force) {
		keep = append(keep, force)
	}
	slices.Sort(keep)
	next.GateOverrides = keep
	for _, n := range []int{next.Stable, next.Candidate, next.Shadow} {
		if v, ok := find(n); ok && v.GateFailed && !next.Overrides(n) {
			return nil, &GateError{Version: n, Reason: v.GateReason}
		}
	}
	err = next.Validate(func(n int) bool {
		v, ok := find(n)
		return ok && !v.Failed && (!v.GateFailed || next.Overrides(n))
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// routable reports whether st may route v: v has not failed, or failed
// only its gate and st overrides the verdict.
func routable(v *Version, st *rollout.State) bool {
	return v.State() != Failed || v.gateFailed && st.Overrides(v.Number)
}

// readmit returns to Unloaded the versions that failed their gate and
// that rollout.json now overrides, so that they load again and serve.
func (s *Store) readmit(m *model) {
	st := m.desired.state
	for _, n := range m.numbers() {
		if v := m.versions[n]; v.State() == Failed && v.gateFailed && st.Overrides(n) {
			v.gateFailed = false
			s.transition(v, Unloaded, fmt.Sprintf("its failed gate is overridden in rollout.json (%s: %s)", st.Actor, st.Reason))
		}
	}
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
