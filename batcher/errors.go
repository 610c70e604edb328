package batcher

import "errors"

var (
	// ErrQueueFull is returned by Do when the queue holds MaxQueueSize
	// rows already.
	ErrQueueFull = errors.New("batcher: queue full")
	// ErrClosed is returned by Do after Close, and for items that were
	// still queued when the queue closed.
	ErrClosed = errors.New("batcher: queue closed")
	// ErrDeadline is returned by Do when the item's deadline passed
	// before it could run; the item was not run.
	ErrDeadline = errors.New("batcher: deadline exceeded before the request ran")
	// ErrPanic is returned by Do for every item of a batch whose Runner
	// panicked; the panic was recovered and the queue serves on.
	ErrPanic = errors.New("batcher: model run panicked")
)
