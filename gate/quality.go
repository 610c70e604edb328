package gate

import "math"

// quality returns the quality metrics, by name, of the outputs out of a
// model with classes classes (0 for a regressor) against labels: for a
// classifier accuracy, AUC (macro one-vs-rest beyond two classes), log
// loss and the F1 averages, and for a binary one also the precision,
// recall and F1 of class positive, Brier score and ECE, scoring the
// probability of class positive; for a regressor RMSE, MAE and R². A
// metric that is undefined on these rows, such as the AUC of a single
// class, is NaN. labels must hold class indices in [0, classes) for a
// classifier, and positive must be 0 or 1 for a binary one.
func quality(classes, positive int, labels, out []float64) map[string]float64 {
	if classes == 0 {
		return map[string]float64{
			MetricRMSE: RMSE(labels, out),
			MetricMAE:  MAE(labels, out),
			MetricR2:   R2(labels, out),
		}
	}
	n := len(labels)
	y := make([]int, n)
	pred := make([]int, n)
	probs := make([][]float64, n)
	for i, l := range labels {
		y[i] = int(l)
		probs[i] = out[i*classes : (i+1)*classes : (i+1)*classes]
		pred[i] = argmax(probs[i])
	}
	m := map[string]float64{
		MetricAccuracy:   Accuracy(y, pred),
		MetricLogLoss:    orNaN(LogLoss(y, probs)),
		MetricF1Macro:    MacroF1(y, pred),
		MetricF1Weighted: WeightedF1(y, pred),
	}
	if classes > 2 {
		m[MetricAUC] = orNaN(MacroAUC(y, probs))
		return m
	}
	// Binary: the positive class is 1 and the other 0, whatever their
	// indices, and its probability is the score.
	bin := make([]int, n)
	score := make([]float64, n)
	for i := range y {
		if y[i] == positive {
			bin[i] = 1
		}
		score[i] = probs[i][positive]
	}
	m[MetricAUC] = orNaN(AUC(bin, score))
	m[MetricPrecision], m[MetricRecall], m[MetricF1] = PrecisionRecallF1(y, pred, positive)
	m[MetricBrier] = Brier(bin, score)
	m[MetricECE] = ECE(bin, score, DefaultECEBins)
	return m
}

// orNaN returns v, or NaN when err says it is undefined.
func orNaN(v float64, err error) float64 {
	if err != nil {
		return math.NaN()
	}
	return v
}

// argmax returns the index of the greatest value of row, the first on a
// tie. Comparisons with NaN are false: a NaN at index 0 wins, and one
// elsewhere never does.
func argmax(row []float64) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}

// rowsOf returns the labels and outputs (k values per row) of the rows
// listed in idx, copied.
func rowsOf(idx []int, labels, out []float64, k int) ([]float64, []float64) {
	l := make([]float64, len(idx))
	o := make([]float64, 0, len(idx)*k)
	for i, r := range idx {
		l[i] = labels[r]
		o = append(o, out[r*k:(r+1)*k]...)
	}
	return l, o
}
