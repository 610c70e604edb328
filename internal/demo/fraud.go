package demo

import (
	"fmt"
	"maps"
	"math"
	"strconv"

	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// Sizes of the demo's data: enough rows for a stable fit, few enough to
// train in well under a second.
const (
	trainRows = 16000
	evalRows  = 4000
)

// Fraud is a demo fraud-detection model, trained and ready to publish:
// BuildFraud's logistic regression, or BuildFraudNet's neural network,
// which is better on the same held-out data. Both models take InputName,
// FP32 [N,InputWidth] (records encoded as Encode does), and output
// LabelName, INT64 [N], and ProbabilitiesName, FP32 [N,2], in the order
// of Classes.
type Fraud struct {
	// Seed is the seed the data (and the network's initial weights and
	// the order it saw the rows in) were drawn from.
	Seed uint64
	// Kind says what the model is, for descriptions, such as "logistic
	// regression".
	Kind string
	// LogReg is what BuildFraud's model computes; its Predict is the
	// reference. It is nil for BuildFraudNet's.
	LogReg *onnx.LogReg
	// MLP is what BuildFraudNet's model computes; its Predict is the
	// reference. It is nil for BuildFraud's.
	MLP *MLPClassifier
	// Model is the serialized ONNX model.
	Model []byte
	// Train is the data the model was trained on.
	Train *Dataset
	// Eval is the held-out data the model was not trained on, the same
	// rows for both models of a seed.
	Eval *Dataset
	// Accuracy is the model's accuracy on Eval: the share of rows whose
	// label output is right.
	Accuracy float64
	// LogLoss is the model's mean log loss on Eval, its probabilities
	// clipped to [1e-15, 1-1e-15].
	LogLoss float64
	// AUC is the area under the ROC curve of the model's probability of
	// fraud on Eval.
	AUC float64
	// Sample is the index in Eval of the held-out fraudulent transaction
	// the model is surest of, for a first request.
	Sample int

	params map[string]string
}

// Predict is the reference implementation of Model: for x holding N rows
// of the encoded input (InputWidth columns each) it returns the N labels
// and the N×2 probabilities, row-major, in new slices.
func (f *Fraud) Predict(x []float32) (labels []int64, probs []float32) {
	if f.MLP != nil {
		return f.MLP.Predict(x)
	}
	return f.LogReg.Predict(x)
}

// Params returns the settings the model was trained with, by name, as a
// tracking run records them: the algorithm, its hyper-parameters, the
// sizes of the data and its seed. Training again with them gives the same
// model bytes. The map is new and the caller's.
func (f *Fraud) Params() map[string]string { return maps.Clone(f.params) }

// split generates the synthetic transactions for seed and splits them into
// the training and the held-out rows.
func split(seed uint64) (train, eval *Dataset) {
	return Generate(seed, trainRows+evalRows).Split(trainRows)
}

// g formats a float64 parameter.
func g(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// BuildFraud generates the synthetic transactions for seed, trains the
// logistic regression on most of them and keeps the rest for evaluation.
func BuildFraud(seed uint64) (*Fraud, error) {
	train, eval := split(seed)
	c, err := Train(train)
	if err != nil {
		return nil, fmt.Errorf("demo: train: %w", err)
	}
	lr := c.LogReg()
	f := &Fraud{Seed: seed, Kind: "logistic regression", LogReg: lr, Model: lr.Model().Marshal(), Train: train, Eval: eval,
		params: map[string]string{
			"algorithm":   "logistic_regression_newton",
			"l2":          g(l2),
			"max_iter":    strconv.Itoa(maxIter),
			"tolerance":   g(tolerance),
			"features":    strconv.Itoa(NumFeatures),
			"input_width": strconv.Itoa(InputWidth),
			"train_rows":  strconv.Itoa(trainRows),
			"eval_rows":   strconv.Itoa(evalRows),
			"seed":        strconv.FormatUint(seed, 10),
		}}
	f.score()
	return f, nil
}

// BuildFraudNet generates the same transactions for seed as BuildFraud,
// trains the neural network (TrainNet, seeded with seed too) on the same
// rows and keeps the same rest for evaluation, on which it scores better
// than BuildFraud's model.
func BuildFraudNet(seed uint64) (*Fraud, error) {
	train, eval := split(seed)
	net, err := TrainNet(train, seed)
	if err != nil {
		return nil, fmt.Errorf("demo: train the network: %w", err)
	}
	mc := &MLPClassifier{MLP: net.MLP()}
	f := &Fraud{Seed: seed, Kind: fmt.Sprintf("neural network (%d ReLU units)", netHidden), MLP: mc, Model: mc.Model().Marshal(),
		Train: train, Eval: eval,
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
			"train_rows":    strconv.Itoa(trainRows),
			"eval_rows":     strconv.Itoa(evalRows),
			"seed":          strconv.FormatUint(seed, 10),
		}}
	f.score()
	return f, nil
}

// score sets f's held-out metrics and Sample from its reference
// predictions on f.Eval.
func (f *Fraud) score() {
	x := f.Eval.Input()
	labels, probs := f.Predict(x)
	scores := make([]float64, len(labels))
	correct, best, loss := 0, -1.0, 0.0
	for i, l := range labels {
		y := f.Eval.Y[i]
		if int(l) == y {
			correct++
		}
		scores[i] = float64(probs[2*i+1])
		p := min(max(scores[i], 1e-15), 1-1e-15)
		if y == 1 {
			loss -= math.Log(p)
		} else {
			loss -= math.Log1p(-p)
		}
		if y == 1 && scores[i] > best {
			best, f.Sample = scores[i], i
		}
	}
	f.Accuracy = float64(correct) / float64(len(labels))
	f.LogLoss = loss / float64(len(labels))
	f.AUC = auc(scores, f.Eval.Y)
}
