package drift

import "math"

// wassersteinMinNorm is the smallest reference std Evidently divides by.
const wassersteinMinNorm = 0.001

// wasserstein is the first Wasserstein distance between the empirical
// distributions of the sorted samples a and b, the integral of
// |F_a - F_b| (scipy.stats.wasserstein_distance without weights), in one
// merge, O(len(a)+len(b)) with no allocation. gonum has no two-sample
// Wasserstein distance.
func wasserstein(a, b []float64) float64 {
	na, nb := float64(len(a)), float64(len(b))
	i, j := 0, 0
	prev := math.Min(a[0], b[0])
	sum := 0.0
	for i < len(a) || j < len(b) {
		var x float64
		switch {
		case j == len(b) || (i < len(a) && a[i] <= b[j]):
			x = a[i]
		default:
			x = b[j]
		}
		// Between prev and x, the CDFs are those of the rows below x.
		sum += math.Abs(float64(i)/na-float64(j)/nb) * (x - prev)
		for i < len(a) && a[i] == x {
			i++
		}
		for j < len(b) && b[j] == x {
			j++
		}
		prev = x
	}
	return sum
}

// wassersteinNorm is what Evidently divides the distance by: the
// reference's population std (numpy's np.std, ddof=0), at least
// wassersteinMinNorm. The profile keeps the sample std (ddof=1) of all
// count rows, converted here; the distance itself is on the sample.
func wassersteinNorm(ref *ColumnProfile) float64 {
	std := 0.0
	if ref.Count > 1 {
		n := float64(ref.Count)
		std = ref.Std * math.Sqrt((n-1)/n)
	}
	return math.Max(std, wassersteinMinNorm)
}
