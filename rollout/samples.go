package rollout

import (
	"math"
	"sync/atomic"
	"time"
)

// RingSize is how many of an arm's latest requests ArmStats keeps as
// samples (Samples): at 20,000 requests a second on one arm, the last
// 0.2 s. The controller reads them once a tick and keeps its own bounded
// sample of the whole step (see Controller).
const RingSize = 4096

// maxSampleLatency is the largest latency a sample holds; longer ones are
// kept as this (about 2.1 s). A latency comparison never needs more: a
// shift of seconds is a breach whatever its exact size.
const maxSampleLatency = 1<<31 - 1

// failedBit marks a failed request in a slot's value word.
const failedBit = 1 << 63

// slot is one sample in the ring. seq is the sample's index plus one,
// written last (0 while a writer fills the slot), so that a reader that
// finds the same non-zero seq before and after reading at and val has
// read one whole sample: a per-slot sequence lock that never blocks.
type slot struct {
	seq atomic.Uint64
	at  atomic.Int64  // Unix nanoseconds when the request ended
	val atomic.Uint64 // failedBit | latency ns (31 bits) << 32 | float32 score bits
}

// Sample is one request an arm answered, as Samples returns it.
type Sample struct {
	// At is when the request ended, in Unix nanoseconds.
	At int64
	// Latency is how long the request took, capped at about 2.1 s.
	Latency time.Duration
	// Failed reports a request recorded with RecordError.
	Failed bool
	// Score is the score of the request's first prediction, mapped into
	// [0, 1] as ArmStats says; NaN when it has none (a failed request, a
	// model without a score).
	Score float32
}

// record writes one sample into the ring: an atomic increment of the
// shared index and four atomic stores, no lock, no allocation.
func (a *ArmStats) record(at time.Time, latency time.Duration, failed bool, score float64) {
	i := a.next.Add(1) - 1
	s := &a.ring[i%RingSize]
	s.seq.Store(0)
	s.at.Store(at.UnixNano())
	s.val.Store(packSample(latency, failed, score))
	s.seq.Store(i + 1)
}

// packSample packs a sample's latency, failure and score into one word.
func packSample(latency time.Duration, failed bool, score float64) uint64 {
	ns := uint64(min(max(latency, 0), maxSampleLatency))
	v := ns<<32 | uint64(math.Float32bits(float32(score)))
	if failed {
		v |= failedBit
	}
	return v
}

// SampleIndex returns how many samples the arm has recorded: the index
// the next one will take. Pass it to Samples to read only later ones. A
// nil *ArmStats returns 0.
func (a *ArmStats) SampleIndex() uint64 {
	if a == nil {
		return 0
	}
	return a.next.Load()
}

// Samples appends to dst the samples recorded from index from on (see
// SampleIndex) that the ring still holds, oldest first, and returns the
// extended slice and the index to pass next time. When more than
// RingSize samples were recorded since from, only the latest RingSize
// are returned (the caller sees it: fewer samples than next−from). A
// sample being written during the call, or overwritten while it was
// read, is skipped. Safe for concurrent use with the Record methods; it
// allocates only when dst must grow. A nil *ArmStats returns dst and
// from.
func (a *ArmStats) Samples(dst []Sample, from uint64) ([]Sample, uint64) {
	if a == nil {
		return dst, from
	}
	next := a.next.Load()
	if next < from { // an index from another arm: start over
		from = 0
	}
	if next-from > RingSize {
		from = next - RingSize
	}
	for i := from; i < next; i++ {
		s := &a.ring[i%RingSize]
		seq := s.seq.Load()
		at, val := s.at.Load(), s.val.Load()
		if seq != i+1 || s.seq.Load() != seq {
			continue
		}
		dst = append(dst, Sample{At: at, Latency: time.Duration(val >> 32 & maxSampleLatency),
			Failed: val&failedBit != 0, Score: math.Float32frombits(uint32(val))})
	}
	return dst, next
}
