package rollout

import (
	"math"
	"sync/atomic"
)

// agreementScale is the fixed-point resolution AgreementStats keeps score
// differences in: a millionth.
const agreementScale = 1e6

// AgreementStats counts how a shadow version's answers compare with
// stable's on the same requests. Its methods are safe for concurrent use,
// take no lock and allocate nothing. The zero value is ready to use, and
// it must not be copied after first use. A nil *AgreementStats records
// nothing.
//
// The caller compares each request that both answered: the label is the
// predicted class for a classifier, and for a regressor whatever bucketing
// of the value the caller chooses, the same throughout; the score is
// mapped into [0, 1] as for ArmStats. A shadow copy that failed counts as
// a mismatch with difference 1; a copy dropped because the shadow fell
// behind is not compared at all.
type AgreementStats struct {
	compared atomic.Uint64
	same     atomic.Uint64
	diff     atomic.Uint64 // sum of |score difference|, in 1/agreementScale
}

// RecordMatch records a request on which the shadow gave stable's label,
// with the absolute difference of their scores.
func (a *AgreementStats) RecordMatch(scoreDiff float64) {
	if a == nil {
		return
	}
	a.compared.Add(1) // before same, so that a snapshot never sees more matches than comparisons
	a.same.Add(1)
	a.diff.Add(fixedDiff(scoreDiff))
}

// RecordMismatch records a request on which the shadow's label differed
// from stable's (or the shadow failed), with the absolute difference of
// their scores.
func (a *AgreementStats) RecordMismatch(scoreDiff float64) {
	if a == nil {
		return
	}
	a.compared.Add(1)
	a.diff.Add(fixedDiff(scoreDiff))
}

// fixedDiff converts |d| to fixed point, clamped to [0, 1]; NaN counts as 1.
func fixedDiff(d float64) uint64 {
	d = math.Abs(d)
	if !(d <= 1) {
		d = 1
	}
	return uint64(d*agreementScale + 0.5)
}

// Snapshot returns the counts so far, each read atomically; see
// ArmStats.Snapshot for what a concurrent record may do. A nil
// *AgreementStats returns the zero Agreement.
func (a *AgreementStats) Snapshot() Agreement {
	if a == nil {
		return Agreement{}
	}
	same := a.same.Load()
	compared := a.compared.Load()
	return Agreement{Compared: compared, Same: min(same, compared), AbsScoreDiff: float64(a.diff.Load()) / agreementScale}
}

// Agreement is how a shadow compared with stable, at one moment or over a
// window (Sub). It is a plain value.
type Agreement struct {
	// Compared is how many requests both answered; Same how many of them
	// got the same label from both.
	Compared, Same uint64
	// AbsScoreDiff is the sum over compared requests of the absolute
	// difference of the two scores.
	AbsScoreDiff float64
}

// Sub returns what was recorded between earlier and g, earlier taken
// first; a count lower in g than in earlier gives 0.
func (g Agreement) Sub(earlier Agreement) Agreement {
	d := Agreement{Compared: sub(g.Compared, earlier.Compared), Same: sub(g.Same, earlier.Same)}
	d.Same = min(d.Same, d.Compared)
	d.AbsScoreDiff = max(g.AbsScoreDiff-earlier.AbsScoreDiff, 0)
	return d
}

// Rate returns Same/Compared, in [0, 1], or 0 when nothing was compared.
func (g Agreement) Rate() float64 {
	if g.Compared == 0 {
		return 0
	}
	return float64(min(g.Same, g.Compared)) / float64(g.Compared)
}

// MeanAbsScoreDiff returns AbsScoreDiff/Compared, or 0 when nothing was
// compared.
func (g Agreement) MeanAbsScoreDiff() float64 {
	if g.Compared == 0 {
		return 0
	}
	return g.AbsScoreDiff / float64(g.Compared)
}
