package modelstore

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/switchyard-ml/switchyard/rollout"
)

// Defaults of the retries of a rollout.json that cannot be written.
const (
	// DefaultPersistRetry is the default of Config.PersistRetry.
	DefaultPersistRetry = time.Second
	// maxPersistRetry bounds the doubling wait between two writes.
	maxPersistRetry = time.Minute
	// auditTimeout bounds each audit write the store makes.
	auditTimeout = 10 * time.Second
)

// PersistAuditor is an optional interface of Config.Auditor, found by
// type assertion: it records, once each, when a model's rollout.json
// starts failing to be written and when that ends. The store calls it from
// a goroutine of its own, never the reconciler's. Without it the log says
// the same, once each too.
type PersistAuditor interface {
	// AuditPersistFailing records that model's rollout.json cannot be
	// written: st, the state in force, serves from memory and is written
	// again with backoff; reason carries the filesystem's error.
	AuditPersistFailing(ctx context.Context, model string, st *rollout.State, reason string) error
	// AuditPersistResolved records that the write is no longer pending:
	// the state was written, or a newer change superseded it, as reason
	// says.
	AuditPersistResolved(ctx context.Context, model, reason string) error
}

// PendingWrites recalls, after a restart, a rollout state that was in
// force but never written: the audit trail that a PersistAuditor writes
// to can provide it.
type PendingWrites interface {
	// PendingState returns the state of model's latest AuditPersistFailing
	// that no AuditPersistResolved followed, or nil when there is none.
	PendingState(ctx context.Context, model string) (*rollout.State, error)
}

// persistState is a model's rollout.json write that has not succeeded:
// until it does, the state in force lives in memory only. The zero value
// means nothing is pending. Owned by the reconciler goroutine.
type persistState struct {
	state *rollout.State // the state to write; nil when nothing is pending
	data  []byte         // its bytes, as rollout.WriteState writes them
	err   error          // the latest write's error
	since time.Time      // when the writes began to fail
	delay time.Duration  // the wait before the next write
	due   time.Time      // when the next write is
}

// persist writes st, the state in force, whose bytes are data, as m's
// rollout.json. When that fails, st stays in force from memory: the
// failure is reported (the pending gauge, Model.PersistError, the log and
// the audit, the last two once until it ends) and the write is retried
// with backoff on the reconciler's retry timer. It publishes m's snapshot.
func (s *Store) persist(m *model, st *rollout.State, data []byte) {
	err := rollout.WriteState(m.dir, st)
	if err == nil {
		s.written(m, data)
		return
	}
	s.metrics.persistFailed(m.name)
	p := &m.persist
	now := time.Now()
	first := p.state == nil
	p.state, p.data, p.err = st, data, err
	if first {
		p.since, p.delay = now, s.cfg.PersistRetry
		s.metrics.setPersistPending(m.name, true)
		s.log.Error("rollout.json not written: the state in force serves from memory, and the write is retried",
			"model", m.name, "stable", st.Stable, "candidate", st.Candidate, "weight_bp", st.Weight, "error", err)
		s.auditPersist(m.name, func(ctx context.Context, a PersistAuditor) error {
			return a.AuditPersistFailing(ctx, m.name, st, "rollout.json cannot be written; the state in force serves from memory: "+err.Error())
		})
	} else {
		p.delay = min(2*p.delay, max(maxPersistRetry, s.cfg.PersistRetry))
	}
	p.due = now.Add(p.delay)
	// The file as it stands now is stale; a later change to it is an edit
	// that supersedes this write (see readDesired).
	raw, rerr := rollout.ReadStateFile(m.dir)
	if rerr == nil || errors.Is(rerr, fs.ErrNotExist) {
		m.desired.raw, m.desired.read = raw, true
	}
	s.armRetry()
	s.snapshot(m)
}

// written records that data is m's rollout.json, and ends a pending
// write.
func (s *Store) written(m *model, data []byte) {
	m.desired.raw, m.desired.read = data, true
	if m.persist.state == nil {
		return
	}
	since := m.persist.since
	s.resolve(m)
	s.log.Info("rollout.json written after failing", "model", m.name, "failing_for", time.Since(since).Round(time.Millisecond))
	s.auditPersist(m.name, func(ctx context.Context, a PersistAuditor) error {
		return a.AuditPersistResolved(ctx, m.name, "rollout.json written; it holds the state in force again")
	})
}

// superseded ends m's pending write because rollout.json changed on disk
// meanwhile: the edit is newer than the state waiting to be written, so
// it applies as any edit does (readDesired) and the write is dropped.
func (s *Store) superseded(m *model) {
	s.resolve(m)
	s.log.Warn("rollout.json changed on disk while the state in force waited to be written: the edit supersedes it", "model", m.name)
	s.auditPersist(m.name, func(ctx context.Context, a PersistAuditor) error {
		return a.AuditPersistResolved(ctx, m.name, "rollout.json edited on disk; the edit supersedes the state that waited to be written")
	})
}

// resolve clears m's pending write, in its snapshot first and then in
// its gauge, so that a reader who sees the gauge at 0 sees the snapshot
// without the error.
func (s *Store) resolve(m *model) {
	m.persist = persistState{}
	s.snapshot(m)
	s.metrics.setPersistPending(m.name, false)
	s.armRetry()
}

// retryWrites writes again every pending rollout.json that is due.
func (s *Store) retryWrites() {
	now := time.Now()
	for _, m := range s.models {
		if p := m.persist; p.state != nil && !p.due.After(now) {
			s.persist(m, p.state, p.data)
		}
	}
	s.armRetry()
}

// armRetry sets the retry timer to the earliest pending write, or stops
// it when none is pending.
func (s *Store) armRetry() {
	var next time.Time
	for _, m := range s.models {
		if p := m.persist; p.state != nil && (next.IsZero() || p.due.Before(next)) {
			next = p.due
		}
	}
	if next.IsZero() {
		s.retry.Stop()
		return
	}
	s.retry.Reset(time.Until(next))
}

// flushWrites tries every pending write once more as the store shuts
// down, and logs those that still fail.
func (s *Store) flushWrites() {
	for _, m := range s.models {
		p := m.persist
		if p.state == nil {
			continue
		}
		if err := rollout.WriteState(m.dir, p.state); err != nil {
			s.log.Error("rollout.json still not written at shutdown: after a restart its stale state applies unless the audit trail recalls the state in force",
				"model", m.name, "stable", p.state.Stable, "candidate", p.state.Candidate, "error", err)
			continue
		}
		s.written(m, p.data)
	}
}

// recall applies, on the first read of m's rollout.json after a start,
// the state that was in force before the restart but never written, as
// Config.PendingWrites remembers it, unless the file changed since that
// state was decided (its modification time is not before the state's
// UpdatedAt): a newer edit wins. It reports whether it applied the state,
// which it then writes (persist).
func (s *Store) recall(m *model, data []byte, onDisk map[int]struct{}) bool {
	ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
	defer cancel()
	st, err := s.cfg.PendingWrites.PendingState(ctx, m.name)
	if err != nil {
		s.log.Error("cannot recall a rollout state left unwritten before the restart; rollout.json applies as it stands", "model", m.name, "error", err)
		return false
	}
	if st == nil {
		return false
	}
	pending, err := rollout.EncodeState(st)
	if err != nil || bytes.Equal(pending, data) {
		return false
	}
	if fi, err := os.Stat(filepath.Join(m.dir, rollout.StateFile)); err == nil && !fi.ModTime().Before(st.UpdatedAt) {
		s.log.Info("rollout.json changed after the state left unwritten before the restart: the file applies", "model", m.name)
		return false
	}
	if err := s.checkState(m, st, onDisk); err != nil {
		s.log.Error("the state left unwritten before the restart is refused; rollout.json applies as it stands", "model", m.name, "error", err)
		return false
	}
	m.desired.raw, m.desired.read, m.desired.state = data, true, st
	s.readmit(m)
	s.log.Warn("rollout.json is older than the state in force before the restart, which was never written: that state applies and is written now",
		"model", m.name, "stable", st.Stable, "candidate", st.Candidate, "weight_bp", st.Weight, "actor", st.Actor, "reason", st.Reason)
	s.persist(m, st, pending)
	if m.persist.state == nil { // written: the trail no longer needs to recall it
		s.auditPersist(m.name, func(ctx context.Context, a PersistAuditor) error {
			return a.AuditPersistResolved(ctx, m.name, "rollout.json written after the restart; it holds the state left unwritten before")
		})
	}
	return true
}

// auditPersist hands a persist audit to Config.Auditor when it is a
// PersistAuditor, on a goroutine of its own that waits for the previous
// one's, so that the trail keeps their order (PendingWrites relies on it).
func (s *Store) auditPersist(model string, fn func(context.Context, PersistAuditor) error) {
	a, ok := s.cfg.Auditor.(PersistAuditor)
	if !ok {
		return
	}
	prev, done := s.persistAudits, make(chan struct{})
	s.persistAudits = done
	s.work.Go(func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
		defer cancel()
		if err := fn(ctx, a); err != nil {
			s.log.Error("rollout.json write failure not audited", "model", model, "error", err)
		}
	})
}
