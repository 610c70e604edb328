package rollout

import (
	"math/rand/v2"
	"time"
)

// window is the statistics window of a model's current step, owned by
// the controller's goroutine: the arms' counters when it began, a bounded
// sample of each arm's requests over the same span of time, and the
// step's analyses so far.
type window struct {
	key               stepKey
	began             time.Time
	stable, candidate StatsSnapshot
	agreement         Agreement
	// lastStable is what the stable arm answered in the latest earlier
	// window of the same stable version in which it answered anything,
	// and lastStableSamples its sample: the baseline once the candidate
	// takes all traffic.
	lastStable        StatsSnapshot
	lastStableSamples ArmSamples

	// stableNext and candidateNext are the ring indexes (ArmStats.
	// SampleIndex) from which the next drain reads each arm.
	stableNext, candidateNext uint64
	// stableSamples and candidateSamples hold a uniform sample of each
	// arm's successful requests in the window (at most MaxSamples).
	stableSamples, candidateSamples reservoir
	// buf is reused by drain to read the rings.
	buf []Sample
	// rng draws the reservoirs' replacements; seeded per window, so a
	// window's sample does not depend on other models.
	rng *rand.Rand

	// analysedAt, breaches and passed carry the step's analyses from one
	// Decide to the next (see Progress). They survive a pause and its
	// resume: resume keeps the counts.
	analysedAt uint64
	breaches   int
	passed     bool
}

// stepKey identifies a step: other versions, another strategy, step or
// weight start a new window. A resume (a new UpdatedAt alone) keeps it.
type stepKey struct {
	stable, candidate int
	strategy          string
	step, weight      int
}

// newWindow begins a window at now over the arms' current counters and
// rings.
func newWindow(key stepKey, now time.Time, stable, cand *ArmStats, agr *AgreementStats) *window {
	return &window{key: key, began: now, stable: snapshot(stable), candidate: snapshot(cand), agreement: agreement(agr),
		stableNext: stable.SampleIndex(), candidateNext: cand.SampleIndex(),
		rng: rand.New(rand.NewPCG(uint64(now.UnixNano()), 0x5eed))}
}

// drain reads what the arms recorded since the last drain into the
// reservoirs, keeping only the span of time both rings still cover: when
// one arm recorded more than RingSize requests since, its oldest sample
// read marks where the other arm's samples start to count too, so that
// both arms are sampled over the same time.
func (w *window) drain(stable, cand *ArmStats) {
	sFrom, cFrom := w.stableNext, w.candidateNext
	w.buf, w.stableNext = stable.Samples(w.buf[:0], sFrom)
	ns := len(w.buf)
	w.buf, w.candidateNext = cand.Samples(w.buf, cFrom)
	ss, cs := w.buf[:ns], w.buf[ns:]
	cut := w.began.UnixNano()
	if w.stableNext-sFrom > RingSize && len(ss) > 0 {
		cut = max(cut, ss[0].At)
	}
	if w.candidateNext-cFrom > RingSize && len(cs) > 0 {
		cut = max(cut, cs[0].At)
	}
	w.stableSamples.add(ss, cut, w.rng)
	w.candidateSamples.add(cs, cut, w.rng)
}

// reservoir is a uniform sample of at most MaxSamples successful
// requests (Algorithm R): each one seen has the same chance to be in it.
type reservoir struct {
	seen uint64
	lat  []int64
	sc   []float32
}

// add offers r the successful samples of ss that ended at or after cut.
func (r *reservoir) add(ss []Sample, cut int64, rng *rand.Rand) {
	for _, s := range ss {
		if s.Failed || s.At < cut {
			continue
		}
		r.seen++
		if len(r.lat) < MaxSamples {
			r.lat = append(r.lat, int64(s.Latency))
			r.sc = append(r.sc, s.Score)
			continue
		}
		if i := rng.Uint64N(r.seen); i < MaxSamples {
			r.lat[i], r.sc[i] = int64(s.Latency), s.Score
		}
	}
}

// samples returns the reservoir's contents for Decide, which only reads
// them; they stay valid until the next add.
func (r *reservoir) samples() ArmSamples { return ArmSamples{Latencies: r.lat, Scores: r.sc} }
