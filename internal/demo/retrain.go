package demo

import (
	"fmt"
	"strconv"
)

// Retraining settings.
const (
	// recentWeight is how much the recent rows weigh in a retraining
	// against the original training set: twice as much, so that where
	// the two disagree (the world moved) the recent rows win, while the
	// original set still covers what the recent rows saw little of.
	recentWeight = 2
	// maxRepeat bounds how many times a recent row is repeated to reach
	// recentWeight, so that a handful of rows is not learned by heart.
	maxRepeat = 16
	// holdOutEvery is the share of recent rows HoldOut keeps for
	// evaluation: one in holdOutEvery.
	holdOutEvery = 5
)

// HoldOut splits recent labelled rows into the rows to train on and the
// rows held out to evaluate on: every fifth row, from the fifth on, so
// that the same rows give the same split. Both datasets are new.
func HoldOut(recent *Dataset) (train, eval *Dataset) {
	train, eval = &Dataset{}, &Dataset{}
	for i := range recent.Len() {
		d := train
		if i%holdOutEvery == holdOutEvery-1 {
			d = eval
		}
		d.X = append(d.X, recent.Row(i)...)
		d.Y = append(d.Y, recent.Y[i])
	}
	return train, eval
}

// BuildRetrained trains the demo network again, as BuildFraudNet does
// (TrainNet, the same settings, seeded with seed), on the original
// training set of seed, regenerated, plus recent: labelled rows of the
// world as it is now, repeated so that they weigh twice as much as the
// original set (at most 16 times each). It scores the model on eval,
// which should be recent rows it was not trained on, and keeps them as
// its Eval. Its Train is the original set followed by recent, each row
// once; Params records the repetition. It returns ErrEmpty when recent
// or eval has no rows, and ErrOneClass when eval holds one class, since
// the gate could not rank on it.
func BuildRetrained(seed uint64, recent, eval *Dataset) (*Fraud, error) {
	if recent.Len() == 0 || eval.Len() == 0 {
		return nil, fmt.Errorf("demo: retrain on %d recent rows, evaluate on %d: %w", recent.Len(), eval.Len(), ErrEmpty)
	}
	if positives := sum(eval.Y); positives == 0 || positives == eval.Len() {
		return nil, fmt.Errorf("demo: retrain: the %d rows held out for evaluation: %w", eval.Len(), ErrOneClass)
	}
	original, _ := split(seed)
	repeat := min(max((recentWeight*original.Len()+recent.Len()-1)/recent.Len(), 1), maxRepeat)
	weighted := concat(original, repeat, recent)
	net, err := TrainNet(weighted, seed)
	if err != nil {
		return nil, fmt.Errorf("demo: retrain the network: %w", err)
	}
	mc := &MLPClassifier{MLP: net.MLP()}
	f := &Fraud{Seed: seed, Kind: fmt.Sprintf("neural network (%d ReLU units), retrained", netHidden), MLP: mc, Model: mc.Model().Marshal(),
		Train: concat(original, 1, recent), Eval: eval,
		params: map[string]string{
			"algorithm":     "mlp_adam",
			"hidden_units":  strconv.Itoa(netHidden),
			"activation":    "relu",
			"epochs":        strconv.Itoa(netEpochs),
			"batch_size":    strconv.Itoa(netBatch),
			"learning_rate": g(netRate),
			"lr_schedule":   "cosine",
			"l2":            g(netL2),
			"features":      strconv.Itoa(NumFeatures),
			"input_width":   strconv.Itoa(InputWidth),
			"train_rows":    strconv.Itoa(original.Len()),
			"recent_rows":   strconv.Itoa(recent.Len()),
			"recent_repeat": strconv.Itoa(repeat),
			"eval_rows":     strconv.Itoa(eval.Len()),
			"seed":          strconv.FormatUint(seed, 10),
		}}
	f.score()
	return f, nil
}

// concat returns a new dataset of a's rows followed by b's, repeated
// times.
func concat(a *Dataset, times int, b *Dataset) *Dataset {
	d := &Dataset{X: make([]float64, 0, len(a.X)+times*len(b.X)), Y: make([]int, 0, len(a.Y)+times*len(b.Y))}
	d.X, d.Y = append(d.X, a.X...), append(d.Y, a.Y...)
	for range times {
		d.X, d.Y = append(d.X, b.X...), append(d.Y, b.Y...)
	}
	return d
}

// sum returns the sum of ys.
func sum(ys []int) int {
	s := 0
	for _, y := range ys {
		s += y
	}
	return s
}
