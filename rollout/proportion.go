package rollout

import "math"

// RateTest is the one-sided comparison of two failure rates: whether the
// candidate's exceeds the baseline's by more than a margin. It is a plain
// value.
type RateTest struct {
	// N and M are the candidate's and the baseline's requests; X and Y
	// how many of them failed.
	N, M, X, Y uint64
	// Diff is the candidate's rate less the baseline's, X/N − Y/M.
	Diff float64
	// Low and High bound the difference at the confidence asked for
	// (two-sided, by the Agresti–Caffo interval: one failure and one
	// success added to each arm, which keeps the interval honest when no
	// request failed).
	Low, High float64
	// Z is the one-sided test's statistic, (difference − margin)/se on
	// the adjusted rates, and P its p-value for "the difference is at
	// most the margin": small when the candidate fails more by more than
	// it.
	Z, P float64
}

// CompareRates compares the candidate's failures x of n requests with the
// baseline's y of m against margin, at the given two-sided confidence
// (so the one-sided test holds at (1+confidence)/2). A zero n or m gives
// sizes and P 1 only.
func CompareRates(x, n, y, m uint64, margin, confidence float64) RateTest {
	t := RateTest{N: n, M: m, X: min(x, n), Y: min(y, m), P: 1}
	if n == 0 || m == 0 {
		return t
	}
	t.Diff = float64(t.X)/float64(n) - float64(t.Y)/float64(m)
	pc := (float64(t.X) + 1) / (float64(n) + 2)
	ps := (float64(t.Y) + 1) / (float64(m) + 2)
	d := pc - ps
	se := math.Sqrt(pc*(1-pc)/(float64(n)+2) + ps*(1-ps)/(float64(m)+2))
	z := normalQuantile(1 - (1-confidence)/2)
	t.Low, t.High = max(d-z*se, -1), min(d+z*se, 1)
	t.Z = (d - margin) / se
	t.P = normalSF(t.Z)
	return t
}

// rateLow returns the lower bound of the Wilson interval of x failures in
// n at the given two-sided confidence: the least failure rate the data
// make plausible. It is 0 when n is 0.
func rateLow(x, n uint64, confidence float64) float64 {
	if n == 0 {
		return 0
	}
	z := normalQuantile(1 - (1-confidence)/2)
	p, fn := float64(min(x, n))/float64(n), float64(n)
	centre := p + z*z/(2*fn)
	spread := z * math.Sqrt(p*(1-p)/fn+z*z/(4*fn*fn))
	return max((centre-spread)/(1+z*z/fn), 0)
}
