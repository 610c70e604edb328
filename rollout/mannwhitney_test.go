package rollout_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/switchyard-ml/switchyard/rollout"
)

// bruteShift computes what MannWhitney reports the slow way: U by
// counting every pair, and the Hodges–Lehmann shift and its interval from
// the sorted list of all N·M differences, with the interval's rank k
// computed from the tie-corrected variance of U written out directly.
func bruteShift(x, y []int64, confidence float64) (u, shift, low, high, sd float64) {
	var diffs []int64
	for _, a := range x {
		for _, b := range y {
			switch {
			case a > b:
				u++
			case a == b:
				u += 0.5
			}
			diffs = append(diffs, a-b)
		}
	}
	slices.Sort(diffs)
	total := len(diffs)
	if total%2 == 1 {
		shift = float64(diffs[total/2])
	} else {
		shift = float64(diffs[total/2-1]+diffs[total/2]) / 2
	}
	// Tie correction: count each distinct value's occurrences in the
	// pooled sample.
	counts := map[int64]float64{}
	for _, v := range append(slices.Clone(x), y...) {
		counts[v]++
	}
	var ties float64
	for _, c := range counts {
		ties += c*c*c - c
	}
	n, m := float64(len(x)), float64(len(y))
	sd = math.Sqrt(n * m / 12 * ((n + m + 1) - ties/((n+m)*(n+m-1))))
	z := math.Sqrt2 * math.Erfinv(confidence)
	k := int(math.Floor(n*m/2 - z*sd))
	k = min(max(k, 1), total)
	return u, shift, float64(diffs[k-1]), float64(diffs[total-k]), sd
}

func TestMannWhitneyAgainstBruteForce(t *testing.T) {
	f := func(x, y []int64) {
		t.Helper()
		got := rollout.MannWhitney(x, y, 0.95)
		u, shift, low, high, sd := bruteShift(x, y, 0.95)
		if got.U != u || got.Shift != shift || got.Low != low || got.High != high {
			t.Errorf("MannWhitney(%v, %v) = U %v shift %v [%v, %v]; want U %v shift %v [%v, %v]",
				x, y, got.U, got.Shift, got.Low, got.High, u, shift, low, high)
		}
		if sd > 0 {
			d := got.U - float64(len(x)*len(y))/2
			d = math.Copysign(max(math.Abs(d)-0.5, 0), d)
			if want := math.Erfc(math.Abs(d/sd) / math.Sqrt2); math.Abs(got.P-want) > 1e-12 {
				t.Errorf("MannWhitney(%v, %v).P = %v; want %v", x, y, got.P, want)
			}
		}
		if got.Low > got.Shift || got.Shift > got.High {
			t.Errorf("MannWhitney(%v, %v): shift %v outside [%v, %v]", x, y, got.Shift, got.Low, got.High)
		}
	}
	f([]int64{1, 2, 3, 4, 5}, []int64{6, 7, 8, 9, 10})
	f([]int64{5, 5, 5, 6}, []int64{5, 5, 7})                    // ties across the samples
	f([]int64{10}, []int64{3})                                  // one pair
	f([]int64{-4, 0, 9, 9, 12, 30}, []int64{1, 1, 1, 2, 40})    // negative values, a tied run
	f([]int64{100, 200, 300, 400}, []int64{110, 210, 310, 410}) // an even number of differences
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		x := make([]int64, 1+r.IntN(40))
		y := make([]int64, 1+r.IntN(40))
		for i := range x {
			x[i] = int64(r.IntN(30)) + 3
		}
		for i := range y {
			y[i] = int64(r.IntN(30))
		}
		f(x, y)
	}
}

// TestMannWhitneyKnownValue checks the p-value against a published one:
// ClickHouse's mannWhitneyUTest test (tests/queries/0_stateless/
// 01560_mann_whitney.sql) gives U 223 and p 0.5426959774289482 for these
// samples, two-sided with the continuity correction.
func TestMannWhitneyKnownValue(t *testing.T) {
	x := []int64{310, 195, 530, 155, 530, 245, 385, 450, 465, 545, 170, 180, 125, 180, 230, 75, 430, 480, 495, 295}
	y := []int64{116, 171, 176, 421, 111, 326, 481, 111, 346, 441, 261, 411, 206, 521, 456, 446, 296, 51, 426, 261}
	got := rollout.MannWhitney(x, y, 0.95)
	if u := min(got.U, 400-got.U); u != 177 && got.U != 223 && 400-got.U != 223 {
		t.Errorf("U = %v; want 223 or 177", got.U)
	}
	if math.Abs(got.P-0.5426959774289482) > 1e-9 {
		t.Errorf("P = %.16f; want 0.5426959774289482", got.P)
	}
}

// TestMannWhitneyLarge checks the bounded-time path on the sizes the
// controller uses: a 5ms shift between two noisy samples of 2000 is
// found, with an interval that holds it and excludes 0.
func TestMannWhitneyLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x, y := make([]int64, rollout.MaxSamples), make([]int64, rollout.MaxSamples)
	for i := range x {
		x[i] = int64(5e6 + 1e6*r.ExpFloat64())
		y[i] = int64(1e6 * r.ExpFloat64())
	}
	got := rollout.MannWhitney(x, y, 0.99)
	if got.Low < 4.8e6 || got.High > 5.2e6 || got.Low > 5e6 || got.High < 5e6 || got.P > 1e-10 {
		t.Fatalf("MannWhitney: shift %v [%v, %v] p %v; want about 5e6 with an interval around it", got.Shift, got.Low, got.High, got.P)
	}
	same := rollout.MannWhitney(y, y, 0.99)
	if same.Shift != 0 || same.Low > 0 || same.High < 0 || same.P < 0.99 {
		t.Fatalf("MannWhitney(y, y): shift %v [%v, %v] p %v; want 0 in the interval and p 1", same.Shift, same.Low, same.High, same.P)
	}
}

func TestCompareRates(t *testing.T) {
	// 2% against 0% on 2000 requests each: the difference is real and
	// above one percentage point only at the edge.
	got := rollout.CompareRates(40, 2000, 0, 2000, 0.01, 0.99)
	if got.Diff != 0.02 || got.Low <= 0.01 || got.P > 0.005 {
		t.Errorf("CompareRates(40/2000, 0/2000) = %+v; want diff 0.02, low above 0.01, p below 0.005", got)
	}
	// No errors anywhere: nothing above the margin.
	got = rollout.CompareRates(0, 100, 0, 5000, 0.01, 0.99)
	if got.Diff != 0 || got.Low >= 0 || got.P < 0.5 {
		t.Errorf("CompareRates(0/100, 0/5000) = %+v; want diff 0, an interval around it, a large p", got)
	}
	// The Agresti–Caffo interval, worked by hand: x=5 of 50, y=1 of 50:
	// pc = 6/52, ps = 2/52, d = 4/52, se = sqrt(pc(1-pc)/52 + ps(1-ps)/52).
	pc, ps := 6.0/52, 2.0/52
	se := math.Sqrt(pc*(1-pc)/52 + ps*(1-ps)/52)
	z := math.Sqrt2 * math.Erfinv(0.95)
	got = rollout.CompareRates(5, 50, 1, 50, 0, 0.95)
	if math.Abs(got.Low-(4.0/52-z*se)) > 1e-12 || math.Abs(got.High-(4.0/52+z*se)) > 1e-12 {
		t.Errorf("CompareRates(5/50, 1/50) interval [%v, %v]; want [%v, %v]", got.Low, got.High, 4.0/52-z*se, 4.0/52+z*se)
	}
	if got = rollout.CompareRates(1, 0, 0, 10, 0, 0.95); got.P != 1 || got.Diff != 0 {
		t.Errorf("CompareRates with no candidate requests = %+v; want P 1", got)
	}
}

func TestCompareScores(t *testing.T) {
	same := make([]float32, 0, 2000)
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		same = append(same, float32(r.Float64()))
	}
	other := make([]float32, 0, 2000)
	for range 2000 {
		other = append(other, float32(r.Float64()))
	}
	got := rollout.CompareScores(same[:1000], other[:1000])
	if got.Excess > 0.05 || got.P < 0.001 || got.DF != 19 {
		t.Errorf("CompareScores of one distribution = %+v; want little excess, no significance, 19 df", got)
	}
	// 40 scores each: PSI is large from noise alone, the excess is not.
	small := rollout.CompareScores(same[:40], other[:40])
	if small.PSI < 0.2 || small.Excess > small.PSI-0.5 {
		t.Errorf("CompareScores of 40 and 40 = %+v; want PSI above 0.2 and its noise estimate near it", small)
	}
	shifted := make([]float32, len(other))
	for i, s := range other {
		shifted[i] = s * s * s // piled up near 0
	}
	got = rollout.CompareScores(shifted, same)
	if got.Excess < 0.2 || got.P > 1e-6 {
		t.Errorf("CompareScores of a shifted distribution = %+v; want excess above 0.2 and a tiny p", got)
	}
	// Every score moved by 0.03: a distance of 0.03, whatever buckets
	// the scores cross.
	moved := make([]float32, len(other))
	for i, s := range other {
		moved[i] = min(s+0.03, 1)
	}
	if got := rollout.CompareScores(moved, other); math.Abs(got.Distance-0.03) > 0.001 {
		t.Errorf("CompareScores of scores moved by 0.03: distance %v; want 0.03", got.Distance)
	}
	if got := rollout.CompareScores([]float32{0.9}, []float32{0.2, 0.4}); math.Abs(got.Distance-0.6) > 1e-6 {
		t.Errorf("CompareScores([0.9], [0.2, 0.4]) distance %v; want 0.6", got.Distance)
	}
	nan := []float32{float32(math.NaN()), 0.5}
	if got := rollout.CompareScores(nan, nan); got.N != 1 || got.M != 1 {
		t.Errorf("CompareScores skips NaN: got sizes %d and %d; want 1 and 1", got.N, got.M)
	}
}
