package drift

import "math"

// jensenShannon is the Jensen–Shannon distance between the distributions
// p and q (normalised to sum to 1 first) with logarithms to base, as
// scipy.spatial.distance.jensenshannon computes it: sqrt((KL(p‖m) +
// KL(q‖m)) / 2) with m = (p+q)/2, where cells with p = 0 add nothing.
// gonum's stat.JensenShannon is the divergence in nats with no
// normalisation, so it is not used.
func jensenShannon(p, q []float64, base float64) float64 {
	sp, sq := 0.0, 0.0
	for i := range p {
		sp += p[i]
		sq += q[i]
	}
	left, right := 0.0, 0.0
	for i := range p {
		pi, qi := p[i]/sp, q[i]/sq
		m := (pi + qi) / 2
		if pi > 0 {
			left += pi * math.Log(pi/m)
		}
		if qi > 0 {
			right += qi * math.Log(qi/m)
		}
	}
	js := (left + right) / math.Log(base)
	return math.Sqrt(max(js, 0) / 2)
}
