package drift

import (
	"cmp"
	"slices"
)

// topValues is how many of the most frequent values a Summary lists.
const topValues = 5

// referenceSummary describes the reference of a column from its profile:
// the whole column's count, mean and std, or its most frequent values.
func referenceSummary(ref *ColumnProfile) Summary {
	s := Summary{Rows: ref.Count}
	if ref.Kind == Numeric {
		mean, std := ref.Mean, ref.Std
		s.Mean = &mean
		if ref.Count > 1 {
			s.Std = &std
		}
		return s
	}
	s.Top = top(ref.Frequencies, ref.Count)
	return s
}

// top returns the shares of the topValues most frequent values of counts
// (ties broken by value, so the choice is stable).
func top(counts map[string]int, rows int) map[string]float64 {
	type vc struct {
		v string
		n int
	}
	all := make([]vc, 0, len(counts))
	for v, n := range counts {
		if n > 0 {
			all = append(all, vc{v, n})
		}
	}
	slices.SortFunc(all, func(a, b vc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.v, b.v)
	})
	out := make(map[string]float64, min(len(all), topValues))
	for _, e := range all[:min(len(all), topValues)] {
		out[e.v] = float64(e.n) / float64(rows)
	}
	return out
}
