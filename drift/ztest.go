package drift

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// zTest is Evidently's two-proportion Z-test of a table t: the share of
// rows that are not the first value (in t's order) in the reference
// against the current, with the pooled standard error, two-sided p-value
// 2·(1 - Φ(|z|)) (gonum's distuv.UnitNormal). When every row has the same
// value in both, or the pooled share is 0 or 1, p = 1 and z = 0.
func zTest(t *table) (z, p float64) {
	if len(t.ref) < 2 {
		return 0, 1
	}
	p1 := (t.nRef - t.ref[0]) / t.nRef
	p2 := (t.nCur - t.cur[0]) / t.nCur
	pooled := (p1*t.nRef + p2*t.nCur) / (t.nRef + t.nCur)
	se := math.Sqrt(pooled * (1 - pooled) * (1/t.nRef + 1/t.nCur))
	if se == 0 || math.IsNaN(se) {
		return 0, 1
	}
	z = (p1 - p2) / se
	return z, 2 * (1 - distuv.UnitNormal.CDF(math.Abs(z)))
}
