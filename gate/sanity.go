package gate

import (
	"fmt"
	"math"
	"strings"
)

// probSumSanity is how far from 1 a classifier's row of probabilities may
// sum before the sanity checks fail it. It is stricter than LogLoss's
// probSumTolerance, so LogLoss accepts every output that passes.
const probSumSanity = 1e-4

// sanity applies the checks that fail a candidate whatever the
// thresholds to its outputs out (rows of max(1, classes) values) on a set
// with labels: no NaN or infinite output; for a classifier, probabilities
// in [0, 1] summing to 1 within probSumSanity, and more than one predicted
// class when the labels hold several; and not the same output for every
// row. It returns one sentence per failed check, naming the candidate
// name, and rows counted from 1 after the header.
func sanity(name string, classes int, labels, out []float64) []string {
	k := max(1, classes)
	rows := len(out) / k
	var reasons []string

	nonFinite, first := 0, -1
	for i, v := range out {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if nonFinite == 0 {
				first = i / k
			}
			nonFinite++
		}
	}
	if nonFinite > 0 {
		reasons = append(reasons, fmt.Sprintf("%s gave %s that are NaN or infinite, the first on row %d.",
			name, plural(nonFinite, "output"), first+1))
	}

	if classes > 0 {
		reasons = append(reasons, probabilities(name, classes, out)...)
		if r := singleClass(name, classes, labels, out); r != "" {
			reasons = append(reasons, r)
		}
	}

	if rows >= 2 && sameRows(out, k) {
		reasons = append(reasons, fmt.Sprintf("%s gave every one of the %d rows the same output, %s: its scores are constant.",
			name, rows, rowText(out[:k])))
	}
	return reasons
}

// probabilities checks that every row of a classifier's outputs whose
// values are all finite holds values in [0, 1] that sum to 1 within
// probSumSanity. It returns a sentence for each of the two that fails,
// naming the first row that breaks it.
func probabilities(name string, classes int, out []float64) []string {
	var outside, offSum int
	outsideRow, outsideValue := -1, 0.0
	sumRow, sumValue := -1, 0.0
	for r := range len(out) / classes {
		row := out[r*classes : (r+1)*classes]
		var sum float64
		bad := -1
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				sum = math.NaN() // reported as non-finite already
				break
			}
			if (v < 0 || v > 1) && bad < 0 {
				bad = j
			}
			sum += v
		}
		if math.IsNaN(sum) {
			continue
		}
		if bad >= 0 {
			if outside == 0 {
				outsideRow, outsideValue = r, row[bad]
			}
			outside++
		}
		if math.Abs(sum-1) > probSumSanity {
			if offSum == 0 {
				sumRow, sumValue = r, sum
			}
			offSum++
		}
	}
	var reasons []string
	if outside > 0 {
		reasons = append(reasons, fmt.Sprintf("%s gave probabilities outside [0, 1] on %s; row %d holds %s.",
			name, plural(outside, "row"), outsideRow+1, num(outsideValue, minDigits)))
	}
	if offSum > 0 {
		reasons = append(reasons, fmt.Sprintf("%s gave probabilities that do not sum to 1 within %s on %s; row %d sums to %s.",
			name, exact(probSumSanity), plural(offSum, "row"), sumRow+1, num(sumValue, maxDigits)))
	}
	return reasons
}

// singleClass returns a sentence when a classifier predicted the same
// class for every row of a set whose labels hold several classes, and ""
// otherwise. labels must be classes in [0, classes).
func singleClass(name string, classes int, labels, out []float64) string {
	seen := make([]bool, classes)
	distinct := 0
	for _, l := range labels {
		if !seen[int(l)] {
			seen[int(l)] = true
			distinct++
		}
	}
	if distinct < 2 {
		return ""
	}
	predicted := argmax(out[:classes])
	for r := 1; r < len(labels); r++ {
		if argmax(out[r*classes:(r+1)*classes]) != predicted {
			return ""
		}
	}
	return fmt.Sprintf("%s predicted class %d for every one of the %d rows, though the eval set's labels hold %d classes.",
		name, predicted, len(labels), distinct)
}

// sameRows reports whether every row of out (k values each) equals the
// first, value for value.
func sameRows(out []float64, k int) bool {
	for i := k; i < len(out); i++ {
		if out[i] != out[i%k] {
			return false
		}
	}
	return true
}

// rowText formats one row of outputs, such as "0.5" or "(0.5, 0.5)",
// eliding all but the first four values of a long row.
func rowText(row []float64) string {
	if len(row) == 1 {
		return num(row[0], minDigits)
	}
	parts := make([]string, 0, min(len(row), 5))
	for j, v := range row {
		if j == 4 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, num(v, minDigits))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
