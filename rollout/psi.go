package rollout

import (
	"math"
	"slices"
)

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

// ScoreTest is the comparison of two samples of scores in [0, 1],
// bucketed as a ScoreHistogram: PSI as the size of the shift and a
// chi-squared test of homogeneity as its significance. It is a plain
// value.
type ScoreTest struct {
	// N and M are how many scores the candidate and the baseline gave.
	N, M int
	// PSI is the population stability index of the two histograms, each
	// bucket's count smoothed by one half so that a bucket one arm never
	// filled adds a finite term; Noise is what PSI comes to on average
	// between two samples of these sizes from one distribution, about
	// (k−1)·(1/N + 1/M) for k buckets in use; Excess is PSI less Noise,
	// the shift the data show beyond sampling noise (0 at least).
	PSI, Noise, Excess float64
	// Distance is the Wasserstein (earth mover's) distance between the
	// two samples of scores: how far, on average, the scores moved, in
	// the scores' own unit; a shift of every score by 0.03 gives 0.03
	// however many bucket boundaries it crosses.
	Distance float64
	// ChiSquare is Pearson's statistic over the buckets either arm uses,
	// with DF degrees of freedom, and P its p-value (Wilson–Hilferty
	// approximation; 1 when fewer than two buckets are in use).
	ChiSquare float64
	DF        int
	P         float64
}

// CompareScores compares the candidate's scores x with the baseline's y.
// NaN scores are skipped; the others are bucketed as ScoreHistogram
// buckets them.
func CompareScores(x, y []float32) ScoreTest {
	var hx, hy ScoreHistogram
	for _, s := range x {
		if i := scoreBucket(float64(s)); i >= 0 {
			hx[i]++
		}
	}
	for _, s := range y {
		if i := scoreBucket(float64(s)); i >= 0 {
			hy[i]++
		}
	}
	n, m := hx.Total(), hy.Total()
	t := ScoreTest{N: int(n), M: int(m), P: 1}
	if n == 0 || m == 0 {
		return t
	}
	k := 0
	for i := range hx {
		if hx[i]+hy[i] > 0 {
			k++
		}
	}
	fn, fm, half := float64(n), float64(m), 0.5*float64(k)
	for i := range hx {
		c, b := float64(hx[i]), float64(hy[i])
		if c+b == 0 {
			continue
		}
		a, e := (c+0.5)/(fn+half), (b+0.5)/(fm+half)
		t.PSI += (a - e) * math.Log(a/e)
		// Pearson's statistic for a 2×k table: expected counts from the
		// pooled share of the bucket.
		pool := (c + b) / (fn + fm)
		ec, eb := pool*fn, pool*fm
		t.ChiSquare += (c-ec)*(c-ec)/ec + (b-eb)*(b-eb)/eb
	}
	t.Distance = wasserstein(x, y)
	t.Noise = float64(k-1) * (1/fn + 1/fm)
	t.Excess = max(t.PSI-t.Noise, 0)
	t.DF = k - 1
	if t.DF > 0 {
		t.P = chiSquareSF(t.ChiSquare, t.DF)
	}
	return t
}

// chiSquareSF returns P(X > x) for X chi-squared with df degrees of
// freedom, by the Wilson–Hilferty cube-root normal approximation (within
// about 0.01 in p for df ≥ 3 and tail p-values, enough for a decision at
// p 0.01).
func chiSquareSF(x float64, df int) float64 {
	if x <= 0 {
		return 1
	}
	k := float64(df)
	z := (math.Cbrt(x/k) - (1 - 2/(9*k))) / math.Sqrt(2/(9*k))
	return normalSF(z)
}

// wasserstein returns the Wasserstein-1 distance between the empirical
// distributions of x and y, NaN skipped and values clamped into [0, 1]:
// the integral of the absolute difference of their distribution
// functions, found by walking both sorted samples. 0 when either is
// empty.
func wasserstein(x, y []float32) float64 {
	xs, ys := clampedSorted(x), clampedSorted(y)
	if len(xs) == 0 || len(ys) == 0 {
		return 0
	}
	var d, prev float64
	i, j := 0, 0
	for i < len(xs) || j < len(ys) {
		var v float64
		switch {
		case j == len(ys) || i < len(xs) && xs[i] <= ys[j]:
			v = xs[i]
		default:
			v = ys[j]
		}
		fx, fy := float64(i)/float64(len(xs)), float64(j)/float64(len(ys))
		d += math.Abs(fx-fy) * (v - prev)
		prev = v
		for i < len(xs) && xs[i] == v {
			i++
		}
		for j < len(ys) && ys[j] == v {
			j++
		}
	}
	return d
}

// clampedSorted returns the non-NaN values of s clamped into [0, 1], as
// float64, sorted.
func clampedSorted(s []float32) []float64 {
	out := make([]float64, 0, len(s))
	for _, v := range s {
		if v == v {
			out = append(out, min(max(float64(v), 0), 1))
		}
	}
	slices.Sort(out)
	return out
}
