package rollout

import (
	"math"
	"slices"
)

// ShiftTest is the comparison of two samples' locations: the
// Mann–Whitney U test and the Hodges–Lehmann estimate of the shift of x
// against y, with its confidence interval. It is a plain value.
type ShiftTest struct {
	// N and M are the sizes of x and y.
	N, M int
	// U is x's Mann–Whitney statistic: the pairs (xi, yj) with xi > yj,
	// plus half those with xi = yj. It is N·M/2 when neither tends to be
	// larger.
	U float64
	// Z is U standardised by the normal approximation, with the tie and
	// continuity corrections; P is its two-sided p-value (1 when every
	// value is tied).
	Z, P float64
	// Shift is the Hodges–Lehmann estimate of how much larger x is than
	// y: the median of the N·M differences xi − yj.
	Shift float64
	// Low and High bound Shift at the confidence asked for: the
	// rank-based (Moses) interval, the order statistics of the
	// differences that the normal approximation of U places at that
	// confidence.
	Low, High float64
}

// MannWhitney compares samples x and y (integers, such as latencies in
// nanoseconds) at the given two-sided confidence, such as 0.99. With an
// empty sample it returns sizes and P 1 only. It sorts copies, so it does
// not modify x or y, and takes O((N+M)·log(N+M)) time for the test and
// O((N+M)·64) for each order statistic of the differences, never
// materialising the N·M of them.
func MannWhitney(x, y []int64, confidence float64) ShiftTest {
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	n, m := float64(len(xs)), float64(len(ys))
	t := ShiftTest{N: len(xs), M: len(ys), P: 1}
	if len(xs) == 0 || len(ys) == 0 {
		return t
	}

	// Rank the pooled values by merging the sorted samples, giving tied
	// values their mean rank; sum x's ranks and the ties' t³−t.
	var rankSumX, ties float64
	i, j, rank := 0, 0, 0
	for i < len(xs) || j < len(ys) {
		v := minNext(xs, ys, i, j)
		cx, cy := 0, 0
		for i < len(xs) && xs[i] == v {
			i, cx = i+1, cx+1
		}
		for j < len(ys) && ys[j] == v {
			j, cy = j+1, cy+1
		}
		c := float64(cx + cy)
		mid := float64(rank) + (c+1)/2
		rankSumX += float64(cx) * mid
		ties += c*c*c - c
		rank += cx + cy
	}
	t.U = rankSumX - n*(n+1)/2
	mean := n * m / 2
	sd := 0.0
	if n+m > 1 {
		sd = math.Sqrt(n * m / 12 * ((n + m + 1) - ties/((n+m)*(n+m-1))))
	}
	if sd > 0 {
		d := t.U - mean
		d = math.Copysign(max(math.Abs(d)-0.5, 0), d) // continuity correction
		t.Z = d / sd
		t.P = min(2*normalSF(math.Abs(t.Z)), 1)
	}

	total := len(xs) * len(ys)
	if total%2 == 1 {
		t.Shift = float64(kthDifference(xs, ys, (total+1)/2))
	} else {
		t.Shift = (float64(kthDifference(xs, ys, total/2)) + float64(kthDifference(xs, ys, total/2+1))) / 2
	}
	k := int(math.Floor(mean - normalQuantile(1-(1-confidence)/2)*sd))
	k = min(max(k, 1), total)
	t.Low = float64(kthDifference(xs, ys, k))
	t.High = float64(kthDifference(xs, ys, total+1-k))
	return t
}

// minNext returns the smaller of xs[i] and ys[j], whichever exist.
func minNext(xs, ys []int64, i, j int) int64 {
	switch {
	case i == len(xs):
		return ys[j]
	case j == len(ys):
		return xs[i]
	}
	return min(xs[i], ys[j])
}

// kthDifference returns the k-th smallest (from 1) of the differences
// xi − yj of sorted xs and ys, by bisecting on the value: the smallest
// integer d with at least k differences at or below it.
func kthDifference(xs, ys []int64, k int) int64 {
	lo, hi := xs[0]-ys[len(ys)-1], xs[len(xs)-1]-ys[0]
	for lo < hi {
		mid := lo + (hi-lo)/2
		if countAtMost(xs, ys, mid) >= k {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// countAtMost returns how many differences xi − yj of sorted xs and ys
// are at most d, in O(len(xs)+len(ys)): for each xi, the yj ≥ xi − d, a
// boundary that only moves right as xi grows.
func countAtMost(xs, ys []int64, d int64) int {
	c, j := 0, 0
	for _, x := range xs {
		for j < len(ys) && ys[j] < x-d {
			j++
		}
		c += len(ys) - j
	}
	return c
}

// normalSF returns the standard normal distribution's survival function,
// P(Z > z).
func normalSF(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// normalQuantile returns the z with P(Z ≤ z) = p, for p in (0, 1).
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }
