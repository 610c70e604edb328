package bench

import (
	"math"
	"slices"
	"time"
)

// Latency summarises a set of response times. The percentiles are exact:
// every sample is kept and they are taken by nearest rank, so P99 is the
// smallest sample that at least 99% of all samples do not exceed.
//
// Durations are encoded in JSON as integer nanoseconds.
type Latency struct {
	// Count is the number of samples summarised.
	Count int `json:"count"`
	// Mean is their arithmetic mean.
	Mean time.Duration `json:"mean_ns"`
	// P50, P90, P99 and P999 are the 50th, 90th, 99th and 99.9th
	// percentiles.
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p99_9_ns"`
	// Max is the largest sample.
	Max time.Duration `json:"max_ns"`
}

// summarize sorts samples in place and summarises them. No samples give
// the zero Latency.
func summarize(samples []time.Duration) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	slices.Sort(samples)
	var sum float64
	for _, d := range samples {
		sum += float64(d)
	}
	return Latency{
		Count: len(samples),
		Mean:  time.Duration(sum / float64(len(samples))),
		P50:   percentile(samples, 0.50),
		P90:   percentile(samples, 0.90),
		P99:   percentile(samples, 0.99),
		P999:  percentile(samples, 0.999),
		Max:   samples[len(samples)-1],
	}
}

// percentile returns the q-quantile (0 < q <= 1) of the sorted samples by
// nearest rank: the sample at rank ceil(q·n). It returns 0 for no samples.
func percentile(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The small epsilon keeps q·n that should be an integer (0.99·100)
	// from rounding up to the next rank through floating-point error.
	rank := int(math.Ceil(q*float64(n) - 1e-9))
	return sorted[min(max(rank, 1), n)-1]
}
