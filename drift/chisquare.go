package drift

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// chiSquareTest is Evidently's chi-squared test of a table t: the
// current counts are the observed frequencies and the reference counts,
// scaled to the current total, the expected ones; the statistic is
// Pearson's and the p-value the chi-squared survival function with one
// degree of freedom fewer than values (scipy.stats.chisquare; gonum's
// distuv.ChiSquared). A value the reference never had makes the statistic
// +Inf and the p-value 0. A single value carries no information: p = 1.
func chiSquareTest(t *table) (chi2, p float64) {
	k := len(t.ref)
	if k < 2 {
		return 0, 1
	}
	norm := t.nCur / t.nRef
	for i := range k {
		exp := t.ref[i] * norm
		d := t.cur[i] - exp
		chi2 += d * d / exp
	}
	if math.IsInf(chi2, 1) {
		return chi2, 0
	}
	return chi2, distuv.ChiSquared{K: float64(k - 1)}.Survival(chi2)
}
