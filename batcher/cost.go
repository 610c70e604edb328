package batcher

import (
	"math"
	"sync/atomic"
	"time"
)

// Cost is what a queue's batches have cost since the queue was made: the
// compute its version used and the predictions it made with it.
//
// ComputeSeconds has two parts. ModelSeconds is the wall time of the
// model runs: each batch's Batch.RunTime (the whole call to the Runner
// when it reports none), which a batch holds for its requests by their
// share of its rows; a batch holds requests of one version only, so the
// version is charged the whole run. ProcessSeconds is the version's share
// of the rest of the process's CPU time (HTTP, decoding, routing,
// batching, sidecars, garbage collection, and model threads beyond one),
// which the Metrics' sampler gives to the versions that ran requests in
// each interval in proportion to their requests.
type Cost struct {
	// ModelSeconds is the wall time inside the model's runs, failed
	// batches included.
	ModelSeconds float64
	// ProcessSeconds is the version's share of the process's other CPU
	// time; 0 without a running sampler.
	ProcessSeconds float64
	// Requests counts the items that ran, failed batches included.
	Requests int64
	// Predictions counts the rows of the batches that succeeded.
	Predictions int64
	// PerCoreHour is the price of a core-hour in dollars set with
	// SetPrice; 0 means none.
	PerCoreHour float64
}

// ComputeSeconds is ModelSeconds plus ProcessSeconds.
func (c Cost) ComputeSeconds() float64 { return c.ModelSeconds + c.ProcessSeconds }

// SecondsPerPrediction is ComputeSeconds over Predictions, or 0 before
// the first prediction.
func (c Cost) SecondsPerPrediction() float64 {
	if c.Predictions == 0 {
		return 0
	}
	return c.ComputeSeconds() / float64(c.Predictions)
}

// DollarsPer1k is what 1,000 predictions cost at PerCoreHour: 1000 ×
// SecondsPerPrediction / 3600 × PerCoreHour. ok is false without a price
// or before the first prediction.
func (c Cost) DollarsPer1k() (dollars float64, ok bool) {
	if c.PerCoreHour <= 0 || c.Predictions == 0 {
		return 0, false
	}
	return 1000 * c.SecondsPerPrediction() / 3600 * c.PerCoreHour, true
}

// usage accumulates one queue's cost. The hot path adds to its atomics
// once per batch; the sampler adds the process share.
type usage struct {
	model, version string

	modelNanos   atomic.Int64
	processNanos atomic.Int64
	requests     atomic.Int64
	predictions  atomic.Int64
	price        atomic.Uint64 // float64 bits: dollars per core-hour

	// seenNanos and seenRequests are modelNanos and requests as the
	// sampler last read them. Guarded by Metrics.mu.
	seenNanos, seenRequests int64
}

// ran records one batch of n items and rows rows that ran for d; rows
// count as predictions only when the batch succeeded.
func (u *usage) ran(d time.Duration, n, rows int, err error) {
	u.modelNanos.Add(int64(d))
	u.requests.Add(int64(n))
	if err == nil {
		u.predictions.Add(int64(rows))
	}
}

func (u *usage) cost() Cost {
	return Cost{
		ModelSeconds:   time.Duration(u.modelNanos.Load()).Seconds(),
		ProcessSeconds: time.Duration(u.processNanos.Load()).Seconds(),
		Requests:       u.requests.Load(),
		Predictions:    u.predictions.Load(),
		PerCoreHour:    math.Float64frombits(u.price.Load()),
	}
}

// Cost returns what the queue's batches have cost so far. It is safe for
// concurrent use, and still answers after Close.
func (q *Queue[P]) Cost() Cost { return q.usage.cost() }

// SetPrice sets the price of a core-hour in dollars that Cost and the
// switchyard_cost_per_1k_predictions_dollars gauge use; 0 (the default)
// means none, and so does a negative or non-finite price. It is safe for
// concurrent use.
func (q *Queue[P]) SetPrice(perCoreHour float64) {
	if perCoreHour < 0 || math.IsNaN(perCoreHour) || math.IsInf(perCoreHour, 0) {
		perCoreHour = 0
	}
	q.usage.price.Store(math.Float64bits(perCoreHour))
}
