package gate

import "math"

// RMSE returns the root mean squared error of pred against y. It returns NaN
// if the slices are empty or differ in length. It is safe for concurrent use
// and does not retain its arguments.
func RMSE(y, pred []float64) float64 {
	if len(y) != len(pred) || len(y) == 0 {
		return math.NaN()
	}
	var sum float64
	for i, v := range y {
		d := pred[i] - v
		sum += d * d
	}
	return math.Sqrt(sum / float64(len(y)))
}

// MAE returns the mean absolute error of pred against y. It returns NaN if the
// slices are empty or differ in length. It is safe for concurrent use and does
// not retain its arguments.
func MAE(y, pred []float64) float64 {
	if len(y) != len(pred) || len(y) == 0 {
		return math.NaN()
	}
	var sum float64
	for i, v := range y {
		sum += math.Abs(pred[i] - v)
	}
	return sum / float64(len(y))
}

// R2 returns the coefficient of determination of pred against y:
// 1 − Σ(y−pred)² / Σ(y−mean(y))². It is 1 for exact predictions, 0 for
// always predicting the mean, and negative for worse.
//
// When every y is equal the ratio is undefined; like scikit-learn's r2_score
// with force_finite=True, R2 then returns 1 if every prediction is exact and 0
// otherwise. Like scikit-learn, it returns NaN for fewer than two rows, and
// also if the slices differ in length. It is safe for concurrent use and does
// not retain its arguments.
func R2(y, pred []float64) float64 {
	if len(y) != len(pred) || len(y) < 2 {
		return math.NaN()
	}
	var mean, ssRes float64
	constant := true
	for i, v := range y {
		mean += v
		d := v - pred[i]
		ssRes += d * d
		if v != y[0] {
			constant = false
		}
	}
	if math.IsNaN(ssRes) {
		return math.NaN()
	}
	if constant { // checked exactly: a computed mean may differ from y[0] by rounding
		if ssRes == 0 {
			return 1
		}
		return 0
	}
	mean /= float64(len(y))
	var ssTot float64
	for _, v := range y {
		d := v - mean
		ssTot += d * d
	}
	return 1 - ssRes/ssTot
}
