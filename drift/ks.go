package drift

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// ksExactMax is the largest sample for which ksTest computes the exact
// p-value: scipy.stats.ks_2samp's method="auto" is exact when
// max(n1, n2) <= 10000 and asymptotic above.
const ksExactMax = 10000

// ksTest is the two-sided two-sample Kolmogorov–Smirnov test of the sorted
// samples a and b, as scipy.stats.ks_2samp computes it with its default
// method: the statistic D (rounded, like scipy, to the lattice of
// multiples of 1/lcm(n1, n2) in the exact case) and its p-value.
//
// gonum gives the statistic (stat.KolmogorovSmirnov) but no p-value; the
// exact null distribution is computed here by ksExactP. Above ksExactMax
// rows, scipy uses the exact one-sample Kolmogorov distribution kstwo of
// n1·n2/(n1+n2) rows, which gonum lacks; ksTest uses its limit, the
// Kolmogorov distribution of sqrt(n1·n2/(n1+n2))·D, which agrees with
// scipy to O(1/sqrt(n)) only. Compare never gets there with the default
// sample (5,000 rows) and windows of at most 10,000 rows.
func ksTest(a, b []float64) (d, p float64) {
	d = stat.KolmogorovSmirnov(a, nil, b, nil)
	n1, n2 := len(a), len(b)
	if max(n1, n2) > ksExactMax {
		en := float64(n1) * float64(n2) / float64(n1+n2)
		return d, kolmogorovSF(math.Sqrt(en) * d)
	}
	g := gcd(n1, n2)
	lcm := (n1 / g) * n2
	h := int(math.Round(d * float64(lcm)))
	d = float64(h) / float64(lcm)
	if h == 0 {
		return d, 1
	}
	return d, min(max(ksExactP(n1, n2, g, h), 0), 1)
}

// ksExactP returns P(D >= h/lcm(m, n)) under the null hypothesis for
// samples of m and n rows with gcd g: one minus the probability that a
// uniformly random monotone lattice path from (0, 0) to (m, n) stays
// strictly inside the band |x/m - y/n| < h/lcm, the "inside method"
// (Hodges 1958). Instead of counting paths, which overflows, it carries the
// probability of each lattice point, taking a step right from (x, y) with
// probability (m-x)/(m-x+n-y): every path then has probability
// 1/binom(m+n, n). Only the band is visited, O(m·band) time, O(n) space.
func ksExactP(m, n, g, h int) float64 {
	mg, ng := m/g, n/g
	// (x, y) is inside when |x·ng - y·mg| < h.
	lo := func(x int) int { // smallest inside y for x
		y := floorDiv(x*ng-h, mg) + 1
		return max(y, 0)
	}
	hi := func(x int) int { // largest inside y for x
		y := ceilDiv(x*ng+h, mg) - 1
		return min(y, n)
	}
	prev := make([]float64, n+1)
	cur := make([]float64, n+1)
	plo, phi := 0, hi(0)
	prev[0] = 1
	for y := 1; y <= phi; y++ {
		prev[y] = prev[y-1] * float64(n-y+1) / float64(m+n-y+1)
	}
	for x := 1; x <= m; x++ {
		clo, chi := lo(x), hi(x)
		if clo > chi {
			return 1
		}
		for y := clo; y <= chi; y++ {
			v := 0.0
			if y >= plo && y <= phi { // step right from (x-1, y)
				v = prev[y] * float64(m-x+1) / float64(m-x+1+n-y)
			}
			if y > clo { // step up from (x, y-1)
				v += cur[y-1] * float64(n-y+1) / float64(m-x+n-y+1)
			}
			cur[y] = v
		}
		prev, cur = cur, prev
		plo, phi = clo, chi
	}
	if phi < n {
		return 1
	}
	return 1 - prev[n]
}

// kolmogorovSF is the survival function of the Kolmogorov distribution,
// which gonum lacks: 1 - sqrt(2π)/z·Σ exp(-(2k-1)²π²/(8z²)) for z < 1,
// where that series converges fast, else 2·Σ (-1)^(k-1) exp(-2k²z²).
func kolmogorovSF(z float64) float64 {
	if z <= 0 {
		return 1
	}
	s := 0.0
	if z < 1 {
		for k := 1; k <= 100; k++ {
			t := math.Exp(-float64((2*k-1)*(2*k-1)) * math.Pi * math.Pi / (8 * z * z))
			s += t
			if t < 1e-17 {
				break
			}
		}
		return min(max(1-math.Sqrt(2*math.Pi)/z*s, 0), 1)
	}
	for k := 1; k <= 100; k++ {
		t := math.Exp(-2 * float64(k*k) * z * z)
		if k%2 == 1 {
			s += t
		} else {
			s -= t
		}
		if t < 1e-17 {
			break
		}
	}
	return min(max(2*s, 0), 1)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// floorDiv and ceilDiv divide by a positive d, rounding toward -Inf and
// +Inf.
func floorDiv(a, d int) int {
	q := a / d
	if a%d != 0 && a < 0 {
		q--
	}
	return q
}

func ceilDiv(a, d int) int {
	q := a / d
	if a%d != 0 && a > 0 {
		q++
	}
	return q
}
