package drift

import (
	"math"
	"slices"
	"sort"
)

// table holds the counts of the reference and the current data over the
// same values or bins, for the chi-squared, Z, Jensen–Shannon and PSI
// tests. nRef and nCur are the row counts (the sums of ref and cur).
type table struct {
	ref, cur   []float64
	nRef, nCur float64
}

// valueTable counts each distinct value of the sorted samples a (the
// reference) and b, in ascending order: Evidently's keys over the union
// of both.
func valueTable(a, b []float64) *table {
	t := &table{nRef: float64(len(a)), nCur: float64(len(b))}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var x float64
		switch {
		case j == len(b) || (i < len(a) && a[i] <= b[j]):
			x = a[i]
		default:
			x = b[j]
		}
		ca, cb := 0, 0
		for ; i < len(a) && a[i] == x; i++ {
			ca++
		}
		for ; j < len(b) && b[j] == x; j++ {
			cb++
		}
		t.ref = append(t.ref, float64(ca))
		t.cur = append(t.cur, float64(cb))
	}
	return t
}

// categoryTable counts each value of the reference frequencies and of
// the current counts, over the union of the values that occur, in
// lexical order.
func categoryTable(ref map[string]int, cur map[string]int) *table {
	keys := make([]string, 0, len(ref)+len(cur))
	for k, n := range ref {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	for k := range cur {
		if ref[k] <= 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	t := &table{ref: make([]float64, len(keys)), cur: make([]float64, len(keys))}
	for i, k := range keys {
		t.ref[i], t.cur[i] = float64(max(ref[k], 0)), float64(cur[k])
		t.nRef += t.ref[i]
		t.nCur += t.cur[i]
	}
	return t
}

// binTable counts the sorted samples a and b in the bins between
// consecutive edges, as numpy.histogram does: [e_i, e_i+1), the last bin
// closed; rows outside [e_0, e_last] are not counted (none are when the
// edges span both samples).
func binTable(a, b, edges []float64) *table {
	t := &table{nRef: float64(len(a)), nCur: float64(len(b))}
	t.ref = histogram(a, edges)
	t.cur = histogram(b, edges)
	return t
}

func histogram(xs, edges []float64) []float64 {
	k := len(edges) - 1
	counts := make([]float64, k)
	below := sort.SearchFloat64s(xs, edges[0])
	for i := range k {
		var upto int
		if i == k-1 {
			upto = sort.Search(len(xs), func(j int) bool { return xs[j] > edges[k] })
		} else {
			upto = sort.SearchFloat64s(xs, edges[i+1])
		}
		counts[i] = float64(upto - below)
		below = upto
	}
	return counts
}

// sturgesEdges are numpy.histogram_bin_edges(concat(a, b), "sturges"), the
// bins of Evidently's get_binned_data for a numeric column with more than
// 20 reference values: equal bins over the range of both sorted samples,
// ceil(range / (range / (log2(n) + 1))) of them, n the rows of both.
func sturgesEdges(a, b []float64) []float64 {
	first, last := math.Min(a[0], b[0]), math.Max(a[len(a)-1], b[len(b)-1])
	bins := 1
	if first == last {
		first, last = first-0.5, last+0.5
	} else {
		width := (last - first) / (math.Log2(float64(len(a)+len(b))) + 1)
		bins = int(math.Ceil((last - first) / width))
	}
	return linspace(first, last, bins+1)
}

// linspace is numpy.linspace(start, stop, num) computed the same way, so
// that bin edges agree to the bit.
func linspace(start, stop float64, num int) []float64 {
	out := make([]float64, num)
	step := (stop - start) / float64(num-1)
	for i := range out {
		out[i] = float64(i)*step + start
	}
	out[num-1] = stop
	return out
}

// percents returns the shares of t's reference and current rows in each
// cell. With fillZeros (Evidently's feel_zeroes, for PSI), a share of 0
// becomes the smallest non-zero share / 10^6 when that is at most 0.0001,
// else 0.0001, so that logarithms stay finite.
func (t *table) percents(fillZeros bool) (ref, cur []float64) {
	ref, cur = make([]float64, len(t.ref)), make([]float64, len(t.cur))
	for i := range t.ref {
		ref[i] = t.ref[i] / t.nRef
		cur[i] = t.cur[i] / t.nCur
	}
	if fillZeros {
		fillZeroShares(ref)
		fillZeroShares(cur)
	}
	return ref, cur
}

func fillZeroShares(ps []float64) {
	least := math.Inf(1)
	for _, p := range ps {
		if p != 0 && p < least {
			least = p
		}
	}
	fill := 0.0001
	if least <= 0.0001 {
		fill = least / 1e6
	}
	for i, p := range ps {
		if p == 0 {
			ps[i] = fill
		}
	}
}
