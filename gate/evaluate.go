package gate

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// outcome is what running one subject on an evaluation set gave.
type outcome struct {
	// out holds the set's rows of max(1, Classes) output values.
	out []float64
	// latencies holds how long each batch's Predict call took, in batch
	// order.
	latencies []time.Duration
	// wall is how long the whole evaluation took.
	wall time.Duration
}

// evaluate runs s on every row of set, in batches of p.batchRows() rows of
// which at most p.concurrency() run at once, on goroutines it starts and
// joins before returning. It returns ctx's error if ctx ends first, else
// the first error of a batch, a panic in Predict included; the batches
// that have not started by then are not run.
func evaluate(ctx context.Context, p *Policy, set *EvalSet, s Subject) (*outcome, error) {
	k := max(1, s.Classes)
	size := p.batchRows()
	batches := (set.Rows + size - 1) / size
	o := &outcome{out: make([]float64, set.Rows*k), latencies: make([]time.Duration, batches)}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64 // the next batch to run
	var wg sync.WaitGroup
	start := time.Now()
	for range min(p.concurrency(), batches) {
		wg.Go(func() {
			for runCtx.Err() == nil {
				b := int(next.Add(1) - 1)
				if b >= batches {
					return
				}
				if err := o.runBatch(runCtx, s, set, b, size); err != nil {
					cancel(err) // only the first cause is kept
					return
				}
			}
		})
	}
	wg.Wait()
	o.wall = time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := context.Cause(runCtx); err != nil {
		return nil, err
	}
	return o, nil
}

// runBatch runs batch b, rows [b*size, (b+1)*size) of set, into o.out and
// records its latency. A panic in Predict becomes its error, so that it
// fails this evaluation and not the process.
func (o *outcome) runBatch(ctx context.Context, s Subject, set *EvalSet, b, size int) (err error) {
	lo, hi := b*size, min((b+1)*size, set.Rows)
	k := max(1, s.Classes)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("rows %d to %d: the predictor panicked: %v", lo+1, hi, r)
		}
	}()
	start := time.Now()
	features := set.Features[lo*set.Width : hi*set.Width : hi*set.Width]
	if err := s.Predictor.Predict(ctx, features, hi-lo, o.out[lo*k:hi*k:hi*k]); err != nil {
		return fmt.Errorf("rows %d to %d: %w", lo+1, hi, err)
	}
	o.latencies[b] = time.Since(start)
	return nil
}

// speed returns the latency and throughput metrics of o on rows rows:
// the 50th and 99th percentiles of the batch latencies, in milliseconds,
// and the rows per second of the whole evaluation.
func (o *outcome) speed(rows int) map[string]float64 {
	ms := make([]float64, len(o.latencies))
	for i, d := range o.latencies {
		ms[i] = float64(d) / float64(time.Millisecond)
	}
	slices.Sort(ms)
	return map[string]float64{
		MetricLatencyP50: nearestRank(ms, 0.50),
		MetricLatencyP99: nearestRank(ms, 0.99),
		MetricRowsPerSec: float64(rows) / o.wall.Seconds(),
	}
}

// nearestRank returns the q-quantile of sorted by the nearest-rank method:
// the smallest value that at least a fraction q of the values do not
// exceed, with no interpolation. It returns NaN for no values.
func nearestRank(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
