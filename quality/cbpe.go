package quality

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Estimated is the quality CBPE expects of a window of unlabelled
// predictions, from their calibrated probabilities alone.
type Estimated struct {
	// Rows is how many scores the estimate is over.
	Rows int `json:"rows"`
	// Accuracy is the expected accuracy at threshold 0.5: the mean over
	// rows of max(p, 1-p), p being the calibrated probability.
	Accuracy float64 `json:"accuracy"`
	// AUC is the expected ROC AUC, or nil when the calibrated
	// probabilities expect no positive or no negative at all (every p is
	// 0, or every p is 1), so that no ROC curve exists.
	AUC *float64 `json:"auc,omitempty"`
}

// Estimate applies confidence-based performance estimation, as NannyML
// defines it, to the positive-class scores of a binary classifier.
// Each score is calibrated by cal into p, the probability that the row is
// positive. The expected accuracy is the mean of max(p, 1-p). For the
// expected ROC AUC, at every distinct score t taken as a threshold, the
// expected true positives are the sum of p over rows scoring at least t and
// the expected false positives the sum of 1-p over them; dividing by the
// sums of p and of 1-p over all rows gives the expected TPR and FPR, and the
// curve from (0, 0) through those points to (1, 1) is integrated by the
// trapezoid rule. Since cal is non-decreasing, thresholding on the raw or
// on the calibrated score gives the same area: rows whose calibrated p tie
// only add collinear points.
//
// cal must come from Fit or ParseCalibration. scores are read, not
// retained. Estimate returns ErrScores (wrapped) if
// there are none or one is NaN.
func Estimate(cal *Calibration, scores []float64) (Estimated, error) {
	if len(scores) == 0 {
		return Estimated{}, fmt.Errorf("estimate: no scores: %w", ErrScores)
	}
	type row struct{ score, p float64 }
	rows := make([]row, len(scores))
	var sumAcc, pos, neg float64
	for i, s := range scores {
		if math.IsNaN(s) {
			return Estimated{}, fmt.Errorf("estimate: row %d: score is NaN: %w", i, ErrScores)
		}
		p := cal.Apply(s)
		rows[i] = row{s, p}
		sumAcc += max(p, 1-p)
		pos += p
		neg += 1 - p
	}
	est := Estimated{Rows: len(scores), Accuracy: sumAcc / float64(len(scores))}
	if pos <= 0 || neg <= 0 {
		return est, nil
	}
	// Highest score first: lowering the threshold past each distinct
	// score moves its rows to the predicted positives.
	slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(b.score, a.score) })
	var tp, fp, area, prevTP, prevFP float64
	for i, r := range rows {
		tp += r.p
		fp += 1 - r.p
		if i+1 < len(rows) && rows[i+1].score == r.score {
			continue
		}
		area += (fp - prevFP) * (tp + prevTP) / 2
		prevTP, prevFP = tp, fp
	}
	auc := area / (pos * neg)
	est.AUC = &auc
	return est, nil
}
