package rollout

import (
	"math"
	"sync/atomic"
	"time"
)

// ArmStats counts what one arm (a version taking part in a rollout) does
// on the request path: requests, errors, a latency histogram and a
// histogram of the model's scores, and keeps its latest RingSize requests
// as samples (Samples) for the controller's same-window comparisons. Its methods are safe for concurrent
// use, take no lock and allocate nothing; each record is a few atomic
// additions. The zero value is ready to use, and it must not be copied
// after first use. Counters only grow: a step's figures are the
// difference of two snapshots (Snapshot, then StatsSnapshot.Sub), never a
// reset, so a request recorded while a step changes is counted once.
//
// What to record is the caller's contract, the same for every arm:
//   - RecordSuccess or RecordError once per request the arm answered, with
//     when it ended and its latency (and for a success the score of its
//     first prediction, NaN when there is none). An error is a 5xx or a model failure (the run failed,
//     timed out, or gave NaN); a request refused for its own fault (4xx) is
//     either recorded as a success or not at all.
//   - RecordScore once per prediction (per row), with the model's score
//     mapped into [0, 1]: for a binary classifier the positive class's
//     probability; for a multiclass one the predicted class index divided
//     by the number of classes less one; for a regressor the value scaled
//     by a fixed range and clamped. The mapping must not change during a
//     rollout, since PSI compares the arms' histograms bucket by bucket.
//
// A nil *ArmStats records nothing, so a caller can hold one per arm
// without checking.
type ArmStats struct {
	requests atomic.Uint64
	errors   atomic.Uint64
	latency  [latencyBuckets]atomic.Uint64
	scores   [ScoreBuckets]atomic.Uint64
	next     atomic.Uint64 // samples recorded: the ring index of the next one
	ring     [RingSize]slot
}

// RecordSuccess records a request the arm answered: when it ended, its
// latency, and the score of its first prediction mapped into [0, 1] (NaN
// when it has none). The scores of all its predictions go to RecordScore.
func (a *ArmStats) RecordSuccess(end time.Time, latency time.Duration, score float64) {
	if a == nil {
		return
	}
	a.requests.Add(1)
	a.latency[latencyBucket(latency)].Add(1)
	a.record(end, latency, false, score)
}

// RecordError records a request that failed on the arm (a 5xx or a model
// failure): when it ended, and its latency.
func (a *ArmStats) RecordError(end time.Time, latency time.Duration) {
	if a == nil {
		return
	}
	a.requests.Add(1) // before errors, so that a snapshot never sees more errors than requests
	a.errors.Add(1)
	a.latency[latencyBucket(latency)].Add(1)
	a.record(end, latency, true, math.NaN())
}

// RecordScore records one prediction's score, mapped into [0, 1] as the
// ArmStats contract says. A score below 0 counts as 0, above 1 as 1, and
// NaN is not recorded (record the request as an error instead).
func (a *ArmStats) RecordScore(score float64) {
	if a == nil {
		return
	}
	if i := scoreBucket(score); i >= 0 {
		a.scores[i].Add(1)
	}
}

// Snapshot returns a copy of the counts so far. Each counter is read
// atomically but not all at once: a request recorded during the call may
// appear in some counters and not others, never with more errors than
// requests. A nil *ArmStats returns the zero snapshot.
func (a *ArmStats) Snapshot() StatsSnapshot {
	var s StatsSnapshot
	if a == nil {
		return s
	}
	s.Errors = a.errors.Load()
	s.Requests = a.requests.Load()
	for i := range a.latency {
		s.Latency[i] = a.latency[i].Load()
	}
	for i := range a.scores {
		s.Scores[i] = a.scores[i].Load()
	}
	return s
}

// StatsSnapshot is an arm's counts at one moment (from ArmStats.Snapshot)
// or over a window (from Sub). It holds no slices or pointers: a copy is
// independent of the original, and none is ever modified in place.
type StatsSnapshot struct {
	// Requests is how many requests the arm answered; Errors how many of
	// them failed.
	Requests, Errors uint64
	// Latency counts the requests' latencies.
	Latency LatencyHistogram
	// Scores counts the predictions' scores.
	Scores ScoreHistogram
}

// Sub returns the counts recorded between earlier and s, both snapshots of
// the same ArmStats, earlier taken first. A counter that is lower in s
// than in earlier (snapshots of different arms, or in the wrong order)
// gives 0, never a wrapped-around count.
func (s StatsSnapshot) Sub(earlier StatsSnapshot) StatsSnapshot {
	d := StatsSnapshot{Requests: sub(s.Requests, earlier.Requests), Errors: sub(s.Errors, earlier.Errors)}
	d.Errors = min(d.Errors, d.Requests)
	for i := range s.Latency {
		d.Latency[i] = sub(s.Latency[i], earlier.Latency[i])
	}
	for i := range s.Scores {
		d.Scores[i] = sub(s.Scores[i], earlier.Scores[i])
	}
	return d
}

// sub returns a−b, or 0 when b exceeds a.
func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// ErrorRate returns Errors/Requests, in [0, 1], or 0 when there are no
// requests.
func (s StatsSnapshot) ErrorRate() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(min(s.Errors, s.Requests)) / float64(s.Requests)
}

// P99 returns the 99th-percentile latency estimated from the histogram,
// or 0 when it counts nothing; see LatencyHistogram.Quantile for its error
// bound (within 6.25% between 1.024µs and 17.18s).
func (s StatsSnapshot) P99() time.Duration { return s.Latency.Quantile(0.99) }
