package demo

import (
	"cmp"
	"slices"
)

// auc returns the area under the ROC curve of scores against labels (1
// positive, 0 negative), by the Mann-Whitney rank sum with ties given their
// average rank. It is NaN when labels hold a single class.
func auc(scores []float64, labels []int) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	var rankSum, pos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		rank := float64(i+j+1) / 2 // average of ranks i+1 .. j
		for k := i; k < j; k++ {
			if labels[idx[k]] == 1 {
				rankSum += rank
				pos++
			}
		}
		i = j
	}
	neg := float64(len(labels)) - pos
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}
