package demo

import (
	"fmt"

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
	// Eval is the held-out data the model was not trained on.
	Eval *Dataset
	// Accuracy is the model's accuracy on Eval at threshold 0.5.
	Accuracy float64
	// Sample is the held-out fraudulent transaction the model is surest
	// of, for a first request.
	Sample []float32
}

// TrainRows reports how many rows the model was trained on.
func (f *Fraud) TrainRows() int { return trainRows }

// BuildFraud generates the synthetic transactions for seed, trains the
// classifier on most of them and keeps the rest for evaluation.
func BuildFraud(seed uint64) (*Fraud, error) {
	train, eval := Generate(seed, trainRows+evalRows).Split(trainRows)
	c, err := Train(train)
	if err != nil {
		return nil, fmt.Errorf("demo: train: %w", err)
	}
	lr := c.LogReg()
	f := &Fraud{Seed: seed, LogReg: lr, Model: lr.Model().Marshal(), Eval: eval}
	x := eval.Float32()
	labels, probs := lr.Predict(x)
	correct, best := 0, -1.0
	for i, l := range labels {
		if int(l) == eval.Y[i] {
			correct++
		}
		if p := float64(probs[2*i+1]); eval.Y[i] == 1 && p > best {
			best = p
			f.Sample = x[i*NumFeatures : (i+1)*NumFeatures : (i+1)*NumFeatures]
		}
	}
	f.Accuracy = float64(correct) / float64(len(labels))
	return f, nil
}
