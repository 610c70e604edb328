package drift

import (
	"math"
	"slices"
)

// The PSI bands: below PSIModerate the population is stable, from
// PSIModerate to PSISignificant it has shifted moderately (PSI's default
// threshold), above PSISignificant significantly.
const (
	PSIModerate    = 0.1
	PSISignificant = 0.25
)

// psiBins is the number of reference quantile bins of a numeric PSI.
const psiBins = 10

// psi is the population stability index Σ (r - c)·ln(r / c) over the
// shares of a table, with Evidently's fill for empty cells.
func psi(t *table) float64 {
	ref, cur := t.percents(true)
	s := 0.0
	for i := range ref {
		s += (ref[i] - cur[i]) * math.Log(ref[i]/cur[i])
	}
	return s
}

// quantileEdges are the edges of psiBins bins holding equal shares of the
// sorted reference a: its quantiles at 0.1, ..., 0.9 (numpy.quantile's
// default linear interpolation), repeated ones dropped, with -Inf and
// +Inf outside so that every current row falls in a bin. Rows equal to an
// edge go to the bin above it.
func quantileEdges(a []float64) []float64 {
	edges := []float64{math.Inf(-1)}
	step := 1.0 / psiBins
	for i := 1; i < psiBins; i++ {
		edges = append(edges, quantile(a, float64(i)*step))
	}
	edges = append(edges, math.Inf(1))
	return slices.Compact(edges)
}

// quantile is numpy.quantile(a, q) of the sorted a with the default
// "linear" method (Hyndman–Fan type 7), computed as numpy does, lerp
// included. gonum's stat.Quantile offers types 1, 2 and 4, not 7.
func quantile(a []float64, q float64) float64 {
	v := float64(len(a)-1) * q
	lo := math.Floor(v)
	i := int(lo)
	if i >= len(a)-1 {
		return a[len(a)-1]
	}
	g := v - lo
	x, y := a[i], a[i+1]
	d := y - x
	if g >= 0.5 {
		return y - d*(1-g)
	}
	return x + d*g
}
