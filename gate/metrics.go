package gate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// logLossEps bounds the probabilities LogLoss takes the logarithm of, so that
// a confident wrong answer costs about 34.5 instead of +Inf.
const logLossEps = 1e-15

// probSumTolerance is how far from 1 a row may sum for LogLoss to accept it as
// a probability vector.
const probSumTolerance = 1e-3

// AUC returns the area under the ROC curve of a binary classifier: the
// probability that a random positive (label 1) scores above a random negative
// (label 0), counting ties as one half. It uses the rank-average
// (Mann–Whitney U) formula, so constant scores give exactly 0.5.
//
// scores may hold ±Inf. AUC returns ErrLength if the slices differ in length,
// ErrEmpty if they are empty, ErrLabel if a label is neither 0 nor 1, ErrNaN
// if a score is NaN, and ErrDegenerate if either class is absent; the last
// three are wrapped with detail. It allocates one index slice of len(scores).
// It is safe for concurrent use and does not retain its arguments.
func AUC(labels []int, scores []float64) (float64, error) {
	if len(labels) != len(scores) {
		return 0, fmt.Errorf("auc: %d labels, %d scores: %w", len(labels), len(scores), ErrLength)
	}
	if len(labels) == 0 {
		return 0, ErrEmpty
	}
	nPos := 0
	for i, l := range labels {
		if l != 0 && l != 1 {
			return 0, fmt.Errorf("auc: row %d: label %d is not 0 or 1: %w", i, l, ErrLabel)
		}
		if math.IsNaN(scores[i]) {
			return 0, fmt.Errorf("auc: row %d: %w", i, ErrNaN)
		}
		nPos += l
	}
	if nPos == 0 || nPos == len(labels) {
		return 0, fmt.Errorf("auc: %d positives, %d negatives: %w", nPos, len(labels)-nPos, ErrDegenerate)
	}
	return rankAUC(labels, 1, scores, make([]int, len(scores))), nil
}

// MacroAUC returns the one-vs-rest ROC AUC of a multiclass classifier,
// averaged with equal weight over the classes present in labels. probs[i][k]
// is the score of class k for row i; every row must have the same width K and
// every label must lie in [0, K). Classes that never occur in labels are
// skipped, since their one-vs-rest AUC is undefined. The rows need not be
// probability vectors: only the order of each column matters.
//
// MacroAUC returns ErrLength if labels and probs differ in length or the rows
// differ in width (or have width 0), ErrEmpty if there are no rows, ErrLabel
// for a label outside [0, K), ErrNaN for a NaN score and ErrDegenerate if
// fewer than two classes are present. It allocates a column and an index
// slice of len(labels) and a count per class. It is safe for concurrent use
// and does not retain its arguments.
func MacroAUC(labels []int, probs [][]float64) (float64, error) {
	if len(labels) != len(probs) {
		return 0, fmt.Errorf("macro auc: %d labels, %d rows: %w", len(labels), len(probs), ErrLength)
	}
	if len(labels) == 0 {
		return 0, ErrEmpty
	}
	k := len(probs[0])
	if k == 0 {
		return 0, fmt.Errorf("macro auc: rows of width 0: %w", ErrLength)
	}
	counts := make([]int, k)
	for i, row := range probs {
		if len(row) != k {
			return 0, fmt.Errorf("macro auc: row %d has width %d, want %d: %w", i, len(row), k, ErrLength)
		}
		l := labels[i]
		if l < 0 || l >= k {
			return 0, fmt.Errorf("macro auc: row %d: label %d outside [0, %d): %w", i, l, k, ErrLabel)
		}
		for _, p := range row {
			if math.IsNaN(p) {
				return 0, fmt.Errorf("macro auc: row %d: %w", i, ErrNaN)
			}
		}
		counts[l]++
	}
	present := 0
	for _, c := range counts {
		if c > 0 {
			present++
		}
	}
	if present < 2 {
		return 0, fmt.Errorf("macro auc: %d class present: %w", present, ErrDegenerate)
	}
	col := make([]float64, len(probs))
	idx := make([]int, len(probs))
	var sum float64
	for c, n := range counts {
		if n == 0 {
			continue
		}
		for i, row := range probs {
			col[i] = row[c]
		}
		sum += rankAUC(labels, c, col, idx)
	}
	return sum / float64(present), nil
}

// rankAUC returns the AUC of scores for the rows whose label is positive
// against all others. It requires both groups to be non-empty, no NaN in
// scores, and len(idx) >= len(scores); it overwrites idx.
func rankAUC(labels []int, positive int, scores []float64, idx []int) float64 {
	n := len(scores)
	idx = idx[:n]
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	var rankSum float64 // sum of the 1-based ranks of the positives, ties averaged
	nPos := 0
	for i := 0; i < n; {
		j := i + 1
		for j < n && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		// Rows idx[i:j] share ranks i+1 … j; each gets their mean.
		pos := 0
		for _, r := range idx[i:j] {
			if labels[r] == positive {
				pos++
			}
		}
		rankSum += float64(pos) * float64(i+1+j) / 2
		nPos += pos
		i = j
	}
	nNeg := n - nPos
	u := rankSum - float64(nPos)*float64(nPos+1)/2
	return u / (float64(nPos) * float64(nNeg))
}

// Accuracy returns the fraction of rows where predicted equals labels. It
// returns NaN if the slices are empty or differ in length. It is safe for
// concurrent use and does not retain its arguments.
func Accuracy(labels, predicted []int) float64 {
	if len(labels) != len(predicted) || len(labels) == 0 {
		return math.NaN()
	}
	hits := 0
	for i, l := range labels {
		if predicted[i] == l {
			hits++
		}
	}
	return float64(hits) / float64(len(labels))
}

// PrecisionRecallF1 returns the precision, recall and F1 score of predicted
// against labels for the class positive, treating every other label as
// negative. A ratio whose denominator is zero is undefined and reported as 0,
// not NaN, as scikit-learn does with zero_division=0: precision is 0 when
// positive is never predicted, recall is 0 when it never occurs, and F1 is 0
// when precision and recall are both 0. It returns three NaNs if the slices
// are empty or differ in length. It is safe for concurrent use and does not
// retain its arguments.
func PrecisionRecallF1(labels, predicted []int, positive int) (p, r, f1 float64) {
	if len(labels) != len(predicted) || len(labels) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	var tp, fp, fn int
	for i, l := range labels {
		switch pr := predicted[i]; {
		case pr == positive && l == positive:
			tp++
		case pr == positive:
			fp++
		case l == positive:
			fn++
		}
	}
	if tp+fp > 0 {
		p = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r = float64(tp) / float64(tp+fn)
	}
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	return p, r, f1
}

// MacroF1 returns the unweighted mean of the per-class F1 scores over every
// class that occurs in labels or in predicted, as scikit-learn's
// f1_score(average="macro") does; a class that is only predicted counts with
// F1 0. It returns NaN if the slices are empty or differ in length. It
// allocates a count per distinct class. It is safe for concurrent use and does
// not retain its arguments.
func MacroF1(labels, predicted []int) float64 {
	if len(labels) != len(predicted) || len(labels) == 0 {
		return math.NaN()
	}
	stats := classStats(labels, predicted)
	var sum float64
	for _, s := range stats {
		sum += s.f1()
	}
	return sum / float64(len(stats))
}

// WeightedF1 returns the mean of the per-class F1 scores weighted by each
// class's support (its number of rows in labels), as scikit-learn's
// f1_score(average="weighted") does; a class that is only predicted has
// weight 0. It returns NaN if the slices are empty or differ in length. It
// allocates a count per distinct class. It is safe for concurrent use and does
// not retain its arguments.
func WeightedF1(labels, predicted []int) float64 {
	if len(labels) != len(predicted) || len(labels) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, s := range classStats(labels, predicted) {
		sum += float64(s.support) * s.f1()
	}
	return sum / float64(len(labels))
}

// classCounts holds the confusion counts of one class.
type classCounts struct {
	class     int
	tp        int // rows predicted as class that are class
	predicted int // rows predicted as class
	support   int // rows that are class
}

// f1 returns 2TP / (2TP + FP + FN), which equals 2PR / (P + R) and is 0 when
// there is no true positive.
func (c classCounts) f1() float64 {
	if c.tp == 0 {
		return 0
	}
	return 2 * float64(c.tp) / float64(c.predicted+c.support)
}

// classStats returns the counts of every class in labels or predicted, sorted
// by class so that sums over them are deterministic. The slices must have the
// same length.
func classStats(labels, predicted []int) []classCounts {
	at := make(map[int]int) // class -> index in out
	var out []classCounts
	get := func(c int) *classCounts {
		i, ok := at[c]
		if !ok {
			i = len(out)
			at[c] = i
			out = append(out, classCounts{class: c})
		}
		return &out[i]
	}
	for i, l := range labels {
		get(l).support++
		pc := get(predicted[i])
		pc.predicted++
		if predicted[i] == l {
			pc.tp++
		}
	}
	slices.SortFunc(out, func(a, b classCounts) int { return cmp.Compare(a.class, b.class) })
	return out
}

// LogLoss returns the mean negative natural log of the probability each row
// gives its true class: probs[i][labels[i]], clipped to [1e-15, 1-1e-15]
// before the logarithm. Every row must have the same width K, every label must
// lie in [0, K), and every row must be a probability vector: no negative or NaN
// value, summing to 1 within 1e-3.
//
// LogLoss returns ErrLength if labels and probs differ in length or the rows
// differ in width, ErrEmpty if there are no rows, ErrLabel for a label outside
// [0, K), and ErrNotProbabilities for a row that is not a probability vector;
// the errors name the row. It does not allocate on success. It is safe for
// concurrent use and does not retain its arguments.
func LogLoss(labels []int, probs [][]float64) (float64, error) {
	if len(labels) != len(probs) {
		return 0, fmt.Errorf("log loss: %d labels, %d rows: %w", len(labels), len(probs), ErrLength)
	}
	if len(labels) == 0 {
		return 0, ErrEmpty
	}
	k := len(probs[0])
	var sum float64
	for i, row := range probs {
		if len(row) != k {
			return 0, fmt.Errorf("log loss: row %d has width %d, want %d: %w", i, len(row), k, ErrLength)
		}
		l := labels[i]
		if l < 0 || l >= k {
			return 0, fmt.Errorf("log loss: row %d: label %d outside [0, %d): %w", i, l, k, ErrLabel)
		}
		var total float64
		for _, p := range row {
			if math.IsNaN(p) || p < 0 {
				return 0, fmt.Errorf("log loss: row %d: value %v: %w", i, p, ErrNotProbabilities)
			}
			total += p
		}
		if math.Abs(total-1) > probSumTolerance {
			return 0, fmt.Errorf("log loss: row %d sums to %v: %w", i, total, ErrNotProbabilities)
		}
		sum -= math.Log(min(max(row[l], logLossEps), 1-logLossEps))
	}
	return sum / float64(len(labels)), nil
}

// Brier returns the Brier score of a binary classifier: the mean of
// (positiveProb[i] - labels[i])², where labels are 0 or 1 and positiveProb is
// the predicted probability of label 1. Lower is better. positiveProb is not
// checked to lie in [0, 1]. Brier returns NaN if the slices are empty or
// differ in length, or if a label is neither 0 nor 1. It is safe for
// concurrent use and does not retain its arguments.
func Brier(labels []int, positiveProb []float64) float64 {
	if len(labels) != len(positiveProb) || len(labels) == 0 {
		return math.NaN()
	}
	var sum float64
	for i, l := range labels {
		if l != 0 && l != 1 {
			return math.NaN()
		}
		d := positiveProb[i] - float64(l)
		sum += d * d
	}
	return sum / float64(len(labels))
}

// ECE returns the expected calibration error of a binary classifier over bins
// equal-width bins of [0, 1]: the sum over bins of |mean probability − fraction
// of label 1| weighted by the bin's share of rows. Bin b holds probabilities in
// [b/bins, (b+1)/bins); the last bin also holds 1. Probabilities below 0 or
// above 1 are counted in the first or last bin with their own value. Empty
// bins contribute nothing.
//
// ECE returns NaN if the slices are empty or differ in length, if bins is not
// positive, if a label is neither 0 nor 1, or if a probability is NaN. It
// allocates one float64 per bin. It is safe for concurrent use and does not
// retain its arguments.
func ECE(labels []int, positiveProb []float64, bins int) float64 {
	if len(labels) != len(positiveProb) || len(labels) == 0 || bins <= 0 {
		return math.NaN()
	}
	// n_b/n · |Σp/n_b − Σy/n_b| = |Σp − Σy| / n, so one sum per bin suffices.
	gap := make([]float64, bins)
	for i, l := range labels {
		p := positiveProb[i]
		if (l != 0 && l != 1) || math.IsNaN(p) {
			return math.NaN()
		}
		b := 0
		switch {
		case p >= 1:
			b = bins - 1
		case p > 0:
			b = min(int(p*float64(bins)), bins-1)
		}
		gap[b] += p - float64(l)
	}
	var sum float64
	for _, g := range gap {
		sum += math.Abs(g)
	}
	return sum / float64(len(labels))
}
