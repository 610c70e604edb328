package batcher

import (
	"sync/atomic"
	"time"
)

// Item is one request waiting in a Queue. The zero value is ready to use;
// an Item may be reused for another request once Wait has returned.
type Item[P any] struct {
	// Payload is the caller's request; the Runner reads its inputs from it
	// and writes its outputs into it.
	Payload P
	// Rows is the number of rows the request carries (its inputs' first
	// dimension). It must be at least 1.
	Rows int
	// Key groups compatible items: only items with equal keys are batched
	// together. Callers derive it from the inputs' dimensions beyond the
	// first.
	Key uint64
	// Deadline, when not zero, is the time after which the item must not
	// start running.
	Deadline time.Time

	enqueued time.Time
	err      error
	// finished is set once the item has run or failed.
	finished atomic.Bool
	// handoff, set before a send on done, tells the owner to take over
	// the sender's executor slot and run the item instead of returning.
	handoff atomic.Bool
	// done receives one value per finish or hand-off.
	done chan struct{}
}

// finish records the item's outcome and wakes its owner.
func (it *Item[P]) finish(err error) {
	it.err = err
	it.finished.Store(true)
	it.done <- struct{}{}
}

// expired reports whether the item's deadline has passed at now.
func (it *Item[P]) expired(now time.Time) bool {
	return !it.Deadline.IsZero() && now.After(it.Deadline)
}

// Batch is a set of compatible items that run together. The Runner must
// treat the slice as read-only; the items' payloads are its to fill.
type Batch[P any] struct {
	// Items are the requests of the batch, in arrival order.
	Items []*Item[P]
	// Rows is the sum of the items' Rows.
	Rows int
	// RunTime is the time the model's run took, which the Runner sets for
	// cost accounting (Cost.ModelSeconds) when it can tell it apart from
	// gathering and scattering rows. Left zero, the whole call to Run is
	// charged. The batcher zeroes it before each Run.
	RunTime time.Duration
}
