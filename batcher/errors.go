package batcher

import "errors"

var (
	// ErrQueueFull is returned by Enqueue when the queue holds
	// MaxQueueSize rows already.
	ErrQueueFull = errors.New("batcher: queue full")
	// ErrClosed is returned by Enqueue after Close, and by Wait for items
	// that were still queued when the queue closed.
	ErrClosed = errors.New("batcher: queue closed")
	// ErrDeadline is returned by Wait when the item's deadline passed
	// before it could run; the item was not run.
	ErrDeadline = errors.New("batcher: deadline exceeded before the request ran")
)
