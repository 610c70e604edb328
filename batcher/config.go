package batcher

import (
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"time"
)

// Default settings, used where a Config leaves a field zero.
const (
	DefaultMaxBatchSize = 64
	DefaultMaxQueueSize = 4096
)

// Config tunes a Queue. The zero value is valid: see each field for what
// its zero means.
type Config struct {
	// MaxBatchSize is the most rows one batch gathers from several items.
	// 1 turns batching off: every item runs alone. An item with more rows
	// than this still runs, alone. 0 means DefaultMaxBatchSize.
	MaxBatchSize int
	// MaxQueueDelay is how long an executor may hold a batch open for more
	// rows, counted from the first item's arrival. 0 means never wait:
	// run what is already queued.
	MaxQueueDelay time.Duration
	// PreferredBatchSizes are batch sizes worth waiting for: with a
	// MaxQueueDelay, an executor waits until the batch reaches the largest
	// of them (or MaxBatchSize) or the delay passes. Each must be between 1
	// and MaxBatchSize.
	PreferredBatchSizes []int
	// Executors is how many batches of this queue may run at once. 0 means
	// one per CPU (GOMAXPROCS). The first runs whenever anything is queued;
	// each further one joins at once while batches are quick, and once
	// min(MaxBatchSize/2, 16) rows are waiting while they are slow.
	Executors int
	// MaxQueueSize is the most rows that may wait; beyond it Do fails
	// with ErrQueueFull. 0 means DefaultMaxQueueSize.
	MaxQueueSize int
	// Logger receives the panic and stack of a Runner that panicked. Nil
	// means slog.Default().
	Logger *slog.Logger
}

// WithDefaults validates c and returns it with its zero fields filled in,
// as New will use it.
func (c Config) WithDefaults() (Config, error) {
	if c.MaxBatchSize < 0 || c.MaxQueueDelay < 0 || c.Executors < 0 || c.MaxQueueSize < 0 {
		return c, fmt.Errorf("batcher: negative setting in %+v", c)
	}
	if c.MaxBatchSize == 0 {
		c.MaxBatchSize = DefaultMaxBatchSize
	}
	if c.MaxQueueSize == 0 {
		c.MaxQueueSize = DefaultMaxQueueSize
	}
	if c.Executors == 0 {
		c.Executors = runtime.GOMAXPROCS(0)
	}
	for _, p := range c.PreferredBatchSizes {
		if p < 1 || p > c.MaxBatchSize {
			return c, fmt.Errorf("batcher: preferred batch size %d is outside 1..max_batch_size (%d)", p, c.MaxBatchSize)
		}
	}
	c.PreferredBatchSizes = slices.Clone(c.PreferredBatchSizes)
	slices.Sort(c.PreferredBatchSizes)
	return c, nil
}

// target is the row count an executor waits for when it may wait.
func (c *Config) target() int {
	if n := len(c.PreferredBatchSizes); n > 0 {
		return c.PreferredBatchSizes[n-1]
	}
	return c.MaxBatchSize
}
