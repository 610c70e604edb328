package modelstore

import (
	"sync"
	"sync/atomic"
	"time"
)

// Event is one transition of a version's state.
type Event struct {
	// Model and Version name the version.
	Model   string
	Version int
	// From and To are the states before and after.
	From, To State
	// Reason says why, as a sentence fit for a log or an audit trail.
	Reason string
	// Time is when the transition happened.
	Time time.Time
}

// Subscription receives the Store's events on C, in the order they
// happened. The Store never waits for a subscriber: an event that finds C
// full is dropped and counted. C is closed by Close or when the Store
// closes.
type Subscription struct {
	// C delivers the events.
	C <-chan Event

	c       chan Event
	dropped atomic.Uint64
	hub     *hub
}

// Dropped returns how many events did not fit in C.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close ends the subscription and closes C. It may be called more than
// once.
func (s *Subscription) Close() { s.hub.remove(s) }

// hub fans events out to subscriptions without blocking.
type hub struct {
	mu     sync.Mutex // guards subs and closed, and sends against closes
	subs   []*Subscription
	closed bool
	// dropped counts every event dropped, for the metrics.
	dropped func()
}

func (h *hub) subscribe(buffer int) *Subscription {
	c := make(chan Event, max(buffer, 1))
	s := &Subscription{C: c, c: c, hub: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(c)
		return s
	}
	h.subs = append(h.subs, s)
	return s
}

func (h *hub) remove(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, x := range h.subs {
		if x == s {
			h.subs = append(h.subs[:i], h.subs[i+1:]...)
			close(s.c)
			return
		}
	}
}

// publish hands e to every subscriber that has room.
func (h *hub) publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.subs {
		select {
		case s.c <- e:
		default:
			s.dropped.Add(1)
			if h.dropped != nil {
				h.dropped()
			}
		}
	}
}

// close closes every subscription; later ones start closed.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.subs {
		close(s.c)
	}
	h.subs = nil
	h.closed = true
}
