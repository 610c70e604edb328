package modelstore

import "context"

// shutdownReason is the reason of every transition a shutdown makes.
const shutdownReason = "the server is shutting down"

// shutdown is the reconciler's last act, begun when Close cancels its
// context. It answers every waiter, and every command that still comes,
// with ErrClosed. It drains every Ready version through the path any
// drain takes (startDrain), and every Gating one whose gate has not
// started. It lets what is loading, being judged or draining finish and
// report back (gates see their context done and stop), draining what
// loaded or was judged meanwhile, and returns once no background work is
// left, so that nothing is loaded any more. Every transition it makes is
// an event published before it returns, and so before Close closes the
// subscriptions.
func (s *Store) shutdown() {
	for _, w := range s.waiters {
		w.done <- ErrClosed
	}
	s.waiters = nil
	// The drains need no context: they are bounded by DrainTimeout.
	ctx := context.Background()
	for _, m := range s.models {
		for _, v := range m.versions {
			// A version Loading, Draining or being judged reports back
			// below; one Gating whose gate waits for its baseline does not.
			if st := v.State(); st == Ready || st == Gating && !v.judging {
				s.startDrain(ctx, v, shutdownReason)
			}
		}
	}
	for s.busy > 0 {
		select {
		case c := <-s.commands:
			c.done <- ErrClosed
		case o := <-s.outcomes:
			s.busy--
			s.closing(ctx, o)
		}
	}
}

// closing records an outcome that arrives during shutdown: a version that
// loaded or was judged is drained at once instead of going on, and a
// drained one is retired as always.
func (s *Store) closing(ctx context.Context, o outcome) {
	v := o.v
	switch o.phase {
	case phaseLoaded:
		s.loading = nil
		if o.err != nil {
			s.transition(v, Failed, o.err.Error())
			return
		}
		s.startDrain(ctx, v, shutdownReason)
	case phaseGated:
		if o.err == nil {
			v.verdict.Store(o.verdict)
			s.metrics.judged(v, o.verdict)
		}
		s.startDrain(ctx, v, shutdownReason)
	case phaseDrained:
		s.drained(o)
	}
}
