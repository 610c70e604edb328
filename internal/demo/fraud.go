package demo

import (
	"fmt"
	"math"
	"strconv"

	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// Sizes of the demo's data: enough rows for a stable fit, few enough to
// train in milliseconds.
const (
	trainRows = 16000
	evalRows  = 4000
)

// Fraud is the demo fraud-detection model, trained and ready to publish.
type Fraud struct {
	// Seed is the seed the data was generated from.
	Seed uint64
	// LogReg is what the model computes; its Predict is the reference.
	LogReg *onnx.LogReg
	// Model is the serialized ONNX model.
	Model []byte
	// Train is the data the model was trained on.
	Train *Dataset
	// Eval is the held-out data the model was not trained on.
	Eval *Dataset
	// Accuracy is the model's accuracy on Eval at threshold 0.5.
	Accuracy float64
	// LogLoss is the model's mean log loss on Eval, its probabilities
	// clipped to [1e-15, 1-1e-15].
	LogLoss float64
	// Sample is the held-out fraudulent transaction the model is surest
	// of, for a first request.
	Sample []float32
}

// TrainRows reports how many rows the model was trained on.
func (f *Fraud) TrainRows() int { return trainRows }

// Params returns the settings the model was trained with, by name, as a
// tracking run records them: the algorithm, its hyper-parameters, the
// sizes of the data and its seed. Training again with them gives the same
// model bytes. The map is new and the caller's.
func (f *Fraud) Params() map[string]string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return map[string]string{
		"algorithm":  "logistic_regression_newton",
		"l2":         g(l2),
		"max_iter":   strconv.Itoa(maxIter),
		"tolerance":  g(tolerance),
		"features":   strconv.Itoa(NumFeatures),
		"train_rows": strconv.Itoa(trainRows),
		"eval_rows":  strconv.Itoa(evalRows),
		"seed":       strconv.FormatUint(f.Seed, 10),
	}
}

// BuildFraud generates the synthetic transactions for seed, trains the
// classifier on most of them and keeps the rest for evaluation.
func BuildFraud(seed uint64) (*Fraud, error) {
	train, eval := Generate(seed, trainRows+evalRows).Split(trainRows)
	c, err := Train(train)
	if err != nil {
		return nil, fmt.Errorf("demo: train: %w", err)
	}
	lr := c.LogReg()
	f := &Fraud{Seed: seed, LogReg: lr, Model: lr.Model().Marshal(), Train: train, Eval: eval}
	x := eval.Float32()
	labels, probs := lr.Predict(x)
	correct, best, loss := 0, -1.0, 0.0
	for i, l := range labels {
		if int(l) == eval.Y[i] {
			correct++
		}
		p := min(max(float64(probs[2*i+1]), 1e-15), 1-1e-15)
		if eval.Y[i] == 1 {
			loss -= math.Log(p)
		} else {
			loss -= math.Log1p(-p)
		}
		if p := float64(probs[2*i+1]); eval.Y[i] == 1 && p > best {
			best = p
			f.Sample = x[i*NumFeatures : (i+1)*NumFeatures : (i+1)*NumFeatures]
		}
	}
	f.Accuracy = float64(correct) / float64(len(labels))
	f.LogLoss = loss / float64(len(labels))
	return f, nil
}
