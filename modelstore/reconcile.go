package modelstore

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/rollout"
)

// model is one model directory as the reconciler knows it. Every field is
// owned by the reconciler goroutine.
type model struct {
	name, dir string
	// versions holds every complete version on disk, and versions still in
	// memory whose directory went (gone).
	versions map[int]*Version
	// routed is the published route: its ready versions (ascending),
	// the stable one, and the candidate with its weight (nil, 0 when none).
	routed  []*Version
	stableV *Version
	cand    *Version
	weight  int
	shadow  *Version
	policy  policyState
	desired desiredState
	// persist is the rollout.json write still to succeed, if any.
	persist persistState
	live    *liveSettings
	// unloaded is set by Unload and cleared by Load.
	unloaded bool
	// firstServe is set, under on_publish manual without rollout.json,
	// while the version that serves is the model's first: the newest
	// ready version serves until pinManual writes it into rollout.json.
	firstServe bool
	// rejudge holds the Ready versions whose gate must run again because
	// policy.yaml's gate block changed (see policyChanged).
	rejudge map[*Version]bool
	// audits is closed once the latest change audit of the model is
	// written (see auditChange).
	audits chan struct{}
}

// stable returns the version that takes the traffic no candidate takes,
// or nil.
func (m *model) stable() *Version { return m.stableV }

// numbers returns the numbers of the model's versions, ascending.
func (m *model) numbers() []int { return slices.Sorted(maps.Keys(m.versions)) }

// The operations a command asks of the reconciler.
type op uint8

const (
	opRescan op = iota
	opLoad
	opUnload
	opDesire
)

// command is a request to the reconciler from another goroutine; done
// receives its answer once what it asked for has settled.
type command struct {
	op    op
	model string
	done  chan error
	// change computes the new rollout.json of opDesire; force is the
	// version it routes despite a failed gate, or 0.
	change Change
	force  int
	result **rollout.State
}

// waiter is a command waiting for its model (all models when "") to
// settle.
type waiter struct {
	model string
	done  chan error
}

// The kinds of work a background goroutine reports.
type phase uint8

const (
	phaseLoaded phase = iota
	phaseGated
	phaseDrained
	// phaseRejudged is the verdict of a gate run again on a Ready
	// version after policy.yaml's gate block changed.
	phaseRejudged
)

// outcome is what a load, gate or drain goroutine reports to the
// reconciler.
type outcome struct {
	v       *Version
	phase   phase
	verdict *gate.Verdict // of phaseGated and phaseRejudged
	// gen is the model's gate generation (policyState.gen) the verdict
	// was made under.
	gen uint64
	err error
}

// run is the reconciler: the one goroutine that owns s.models and makes
// every transition. It returns when ctx is done.
func (s *Store) run(ctx context.Context) {
	var rescan <-chan time.Time
	if s.cfg.RescanInterval > 0 {
		t := time.NewTicker(s.cfg.RescanInterval)
		defer t.Stop()
		rescan = t.C
	}
	s.retry = time.NewTimer(time.Hour)
	s.retry.Stop()
	defer s.retry.Stop()
	for {
		select {
		case <-ctx.Done():
			s.flushWrites()
			s.shutdown()
			return
		case c := <-s.commands:
			s.command(ctx, c)
		case names := <-s.changed:
			if names == nil {
				s.scanAll(ctx)
			}
			for _, name := range names {
				s.pass(ctx, name)
			}
		case o := <-s.outcomes:
			s.busy--
			s.apply(ctx, o)
		case <-rescan:
			s.scanAll(ctx)
		case <-s.retry.C:
			s.retryWrites()
		}
		s.dispatch(ctx)
		s.settle()
	}
}

// command carries out c and queues its answer.
func (s *Store) command(ctx context.Context, c command) {
	w := waiter{model: c.model, done: c.done}
	switch c.op {
	case opRescan:
		s.scanAll(ctx)
	case opDesire:
		st, err := s.desire(ctx, c.model, c.change, c.force)
		*c.result = st
		c.done <- err
		return
	case opLoad, opUnload:
		if !ValidName(c.model) {
			c.done <- fmt.Errorf("model %q: %w", c.model, ErrNotFound)
			return
		}
		m := s.models[c.model]
		if _, err := os.Stat(filepath.Join(s.cfg.Dir, c.model)); err != nil && (m == nil || c.op == opLoad) {
			c.done <- fmt.Errorf("model %q: %w", c.model, ErrNotFound)
			return
		}
		if m == nil {
			m = s.newModel(c.model)
		}
		m.unloaded = c.op == opUnload
		if c.op == opLoad {
			// An explicit load retries what failed.
			for _, v := range m.versions {
				if v.State() == Failed {
					s.transition(v, Unloaded, "load requested through the repository API")
				}
			}
		}
		s.pass(ctx, c.model)
	}
	s.waiters = append(s.waiters, w)
}

// settle answers the waiters whose models have settled.
func (s *Store) settle() {
	keep := s.waiters[:0]
	for _, w := range s.waiters {
		if s.settled(w.model) {
			w.done <- nil
		} else {
			keep = append(keep, w)
		}
	}
	clear(s.waiters[len(keep):])
	s.waiters = keep
}

// settled reports whether nothing of the named model (of any model when
// "") is loading, gating or draining, or waiting to load.
func (s *Store) settled(name string) bool {
	for _, m := range s.models {
		if name != "" && m.name != name {
			continue
		}
		for _, v := range m.versions {
			switch v.State() {
			case Loading, Gating, Draining:
				return false
			}
			if v.judging || m.rejudge[v] {
				return false // a gate runs again on a Ready version
			}
		}
		if s.nextLoad(m) != nil {
			return false
		}
	}
	return true
}

// scanAll reconciles every model on disk or known.
func (s *Store) scanAll(ctx context.Context) {
	names, err := listModels(s.cfg.Dir)
	if err != nil {
		s.log.Error("cannot scan the registry; what is loaded stays as it is", "error", err)
		return
	}
	for name := range s.models {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for _, name := range names {
		s.pass(ctx, name)
	}
}

func (s *Store) newModel(name string) *model {
	m := &model{name: name, dir: filepath.Join(s.cfg.Dir, name), versions: map[int]*Version{}, live: &liveSettings{},
		rejudge: map[*Version]bool{}}
	m.policy.batching = s.cfg.Batching
	m.policy.keep = s.cfg.KeepPrevious
	m.policy.rollout = s.cfg.Rollout
	m.policy.price = s.cfg.CostPerCoreHour
	m.live.timeout.Store(int64(s.cfg.Batching.Timeout))
	s.models[name] = m
	return m
}

// apply records what a background goroutine reports, then reconciles the
// version's model again.
func (s *Store) apply(ctx context.Context, o outcome) {
	v := o.v
	switch o.phase {
	case phaseLoaded:
		s.loading = nil
		if o.err != nil {
			s.transition(v, Failed, o.err.Error())
			break
		}
		v.reserved = v.Cost
		if m := s.models[v.Model]; m != nil {
			v.queue.SetPrice(m.policy.price)
		}
		s.transition(v, Gating, fmt.Sprintf("loaded in %v (warm-up run %v), %s resident", v.loadTook.Round(time.Millisecond), v.WarmUp.Round(time.Microsecond), mib(v.Cost)))
		// The pass below starts its gate once its baseline is ready.
	case phaseGated:
		v.judging = false
		if m := s.models[v.Model]; o.err == nil && m != nil && o.gen != m.policy.gen {
			// policy.yaml's gate block changed while the gate ran: the
			// version stays Gating and startGates judges it again.
			s.log.Info("verdict made under a gate block no longer in force; judged again", "model", v.Model, "version", v.Number)
			break
		}
		if o.err == nil {
			v.verdict.Store(o.verdict)
			s.metrics.judged(v, o.verdict)
		}
		st := s.models[v.Model].desired.state
		switch {
		case o.err != nil:
			s.fail(ctx, v, "gate: "+o.err.Error())
		case !o.verdict.Pass && st.Overrides(v.Number):
			s.transition(v, Ready, fmt.Sprintf("failed its gate, and serves anyway: rollout.json overrides the verdict (%s: %s)", st.Actor, st.Reason))
		case !o.verdict.Pass:
			v.gateFailed = true
			s.fail(ctx, v, verdictReason(o.verdict))
		default:
			s.transition(v, Ready, "passed its gate: "+strings.Join(o.verdict.Reasons, " "))
		}
	case phaseRejudged:
		s.rejudged(ctx, o)
	case phaseDrained:
		s.drained(o)
	}
	s.pass(ctx, v.Model)
}

// drained records that a drain or shutdown goroutine has closed o.v: a
// Draining version becomes Unloaded, and the version gives back its
// memory and leaves the version map.
func (s *Store) drained(o outcome) {
	v := o.v
	if o.err != nil {
		s.log.Error("version not closed cleanly", "version", v, "error", o.err)
	}
	if v.State() == Draining {
		s.transition(v, Unloaded, v.Reason())
	}
	v.reserved = 0
	s.retire(v)
}

// startDrain moves v to Draining with reason and drains it on a goroutine
// of its own: requests that hold it finish, then it is closed and reported
// back as phaseDrained.
func (s *Store) startDrain(ctx context.Context, v *Version, reason string) {
	s.transition(v, Draining, reason)
	s.spawn(ctx, func(context.Context) outcome {
		dctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
		defer cancel()
		return outcome{v: v, phase: phaseDrained, err: v.drain(dctx)}
	})
}

// fail moves a loaded version to Failed with reason and drains it.
func (s *Store) fail(ctx context.Context, v *Version, reason string) {
	s.transition(v, Failed, reason)
	s.spawn(ctx, func(context.Context) outcome {
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
		defer cancel()
		return outcome{v: v, phase: phaseDrained, err: v.shutdown(sctx)}
	})
}

// retire replaces v, closed for good, by a placeholder with its number
// and status, so that nothing the reconciler holds keeps v's queue,
// bindings and signature alive.
func (s *Store) retire(v *Version) {
	m := s.models[v.Model]
	if m == nil {
		return
	}
	delete(m.rejudge, v)
	if m.versions[v.Number] != v {
		return
	}
	p := newVersion(v.Model, v.Number, v.Dir, m.live)
	p.status.Store(v.status.Load())
	p.verdict.Store(v.verdict.Load())
	p.policyFailure = v.policyFailure
	p.gateFailed = v.gateFailed
	m.versions[v.Number] = p
	s.snapshot(m)
}

// spawn runs fn on a goroutine of its own, passing it ctx (the
// reconciler's, done when Close begins), and hands its outcome to the
// reconciler, which receives every outcome, also while it shuts down
// (busy counts those still to come).
func (s *Store) spawn(ctx context.Context, fn func(ctx context.Context) outcome) {
	s.busy++
	s.work.Go(func() { s.outcomes <- fn(ctx) })
}

// transition moves v to state to, publishes the model's snapshot (without
// v if its directory went and it left memory), then tells the subscribers
// and the log, so that a subscriber finds the snapshot up to date.
func (s *Store) transition(v *Version, to State, reason string) {
	from := v.State()
	v.setState(to, reason)
	if m := s.models[v.Model]; m != nil && m.versions[v.Number] == v {
		if v.gone && !to.loaded() {
			delete(m.versions, v.Number)
			s.metrics.forgetVersion(v.Model, v.Label)
		}
		s.snapshot(m)
	}
	s.events.publish(Event{Model: v.Model, Version: v.Number, From: from, To: to, Reason: reason, Time: time.Now()})
	attrs := []any{"model", v.Model, "version", v.Number, "from", from.String(), "to", to.String()}
	if reason != "" {
		attrs = append(attrs, "reason", reason)
	}
	if to == Failed {
		s.log.Error("version failed", attrs...)
	} else {
		s.log.Info("version "+to.String(), attrs...)
	}
}

// snapshot publishes m for readers and updates its gauge.
func (s *Store) snapshot(m *model) {
	snap := &Model{Name: m.name, Stable: m.stable(), Rollout: m.desired.state, Policy: m.policy.rollout}
	if p := m.persist; p.state != nil {
		snap.PersistError, snap.PersistFailingSince = p.err.Error(), p.since
	}
	for _, n := range m.numbers() {
		snap.Versions = append(snap.Versions, m.versions[n])
	}
	next := maps.Clone(*s.snap.Load())
	next[m.name] = snap
	s.snap.Store(&next)
	s.metrics.count(m.name, m.versions)
}
