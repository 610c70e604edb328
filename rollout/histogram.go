package rollout

import (
	"math"
	"math/bits"
	"time"
)

// The latency histogram's layout: an underflow bucket below
// 2^latencyMinExp ns (about 1µs), latencySub log-spaced buckets per
// doubling up to 2^latencyMaxExp ns (about 17.2s), and an overflow bucket.
const (
	latencySubBits = 3
	latencySub     = 1 << latencySubBits
	latencyMinExp  = 10
	latencyMaxExp  = 34
	latencyBuckets = 1 + (latencyMaxExp-latencyMinExp)*latencySub + 1
)

// LatencyHistogram counts latencies in log-spaced buckets: one below
// 1.024µs, eight per doubling from 1.024µs to 17.18s (each 1/8 to 1/15 of
// its lower bound wide), and one from 17.18s up. It is a plain array, so a
// copy is independent of the original.
type LatencyHistogram [latencyBuckets]uint64

// latencyBucket returns the index of the bucket that counts d.
func latencyBucket(d time.Duration) int {
	if d < 1<<latencyMinExp {
		return 0
	}
	ns := uint64(d)
	e := bits.Len64(ns) - 1
	if e >= latencyMaxExp {
		return latencyBuckets - 1
	}
	sub := int(ns>>(e-latencySubBits)) & (latencySub - 1)
	return 1 + (e-latencyMinExp)*latencySub + sub
}

// latencyMid returns the value Quantile reports for bucket i: the middle
// of a bounded bucket, and the lower bound of the overflow bucket.
func latencyMid(i int) time.Duration {
	switch i {
	case 0:
		return 1 << (latencyMinExp - 1)
	case latencyBuckets - 1:
		return 1 << latencyMaxExp
	}
	e := latencyMinExp + (i-1)/latencySub
	sub := (i - 1) % latencySub
	lo := uint64(latencySub+sub) << (e - latencySubBits)
	width := uint64(1) << (e - latencySubBits)
	return time.Duration(lo + width/2)
}

// Total returns how many latencies h counts.
func (h *LatencyHistogram) Total() uint64 {
	var n uint64
	for _, c := range h {
		n += c
	}
	return n
}

// Quantile returns an estimate of the q-quantile of the latencies h
// counts, or 0 when it counts none; q is clamped to (0, 1]. The estimate is the middle
// of the bucket that holds the ceil(q·n)-th smallest latency, so for a
// latency between 1.024µs and 17.18s it is within 1/16 (6.25%) of that
// latency. Below 1.024µs it reports 512ns; from 17.18s up it reports
// 17.18s, a lower bound.
func (h *LatencyHistogram) Quantile(q float64) time.Duration {
	n := h.Total()
	if n == 0 {
		return 0
	}
	var rank uint64
	switch {
	case !(q > 0): // also NaN
		rank = 1
	case q >= 1:
		rank = n
	default:
		rank = min(max(uint64(math.Ceil(q*float64(n))), 1), n)
	}
	var seen uint64
	for i, c := range h {
		seen += c
		if seen >= rank {
			return latencyMid(i)
		}
	}
	panic("BUG: latency histogram rank beyond its total")
}

// ScoreBuckets is how many equal-width buckets split [0, 1] in a
// ScoreHistogram.
const ScoreBuckets = 20

// ScoreHistogram counts a model's scores in ScoreBuckets equal buckets of
// [0, 1]: bucket i holds [i/20, (i+1)/20), and the last also holds 1. It is
// a plain array, so a copy is independent of the original.
type ScoreHistogram [ScoreBuckets]uint64

// scoreBucket returns the bucket that counts s: scores below 0 count in
// the first, scores above 1 in the last, and NaN nowhere (-1).
func scoreBucket(s float64) int {
	switch {
	case s != s:
		return -1
	case s <= 0:
		return 0
	case s >= 1:
		return ScoreBuckets - 1
	}
	return min(int(s*ScoreBuckets), ScoreBuckets-1)
}

// Total returns how many scores h counts.
func (h *ScoreHistogram) Total() uint64 {
	var n uint64
	for _, c := range h {
		n += c
	}
	return n
}
