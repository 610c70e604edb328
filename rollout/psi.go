package rollout

import "math"

// PSIEpsilon is the share PSI gives a bucket that counts nothing, so that
// an empty bucket adds a large but finite term instead of an infinite one.
const PSIEpsilon = 1e-4

// PSI returns the population stability index of actual against expected:
// the sum over buckets of (a−e)·ln(a/e), where a and e are each bucket's
// share of its histogram's total, and a share of 0 counts as PSIEpsilon.
// It is 0 for identical distributions, never negative, and symmetric in
// its arguments; by common reading below 0.1 is no shift and above 0.2 a
// significant one.
//
// When either histogram counts nothing there is no evidence of a shift,
// and PSI returns 0; callers that need a minimum sample check the totals
// themselves. The result is never NaN.
func PSI(expected, actual ScoreHistogram) float64 {
	te, ta := expected.Total(), actual.Total()
	if te == 0 || ta == 0 {
		return 0
	}
	var psi float64
	for i := range expected {
		e := max(float64(expected[i])/float64(te), PSIEpsilon)
		a := max(float64(actual[i])/float64(ta), PSIEpsilon)
		psi += (a - e) * math.Log(a/e)
	}
	return psi
}
