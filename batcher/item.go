package batcher

import "time"

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
	done     chan struct{}
}

// Wait blocks until the item has run or failed and returns its error: nil,
// ErrDeadline, ErrClosed, or what the Runner returned for its batch. It
// must be called exactly once after each successful Enqueue.
func (it *Item[P]) Wait() error {
	<-it.done
	return it.err
}

// finish records the item's outcome and wakes its Wait.
func (it *Item[P]) finish(err error) {
	it.err = err
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
}
