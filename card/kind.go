package card

import "github.com/switchyard-ml/switchyard/engine"

// The tasks a card names.
const (
	TaskClassifier = "classifier"
	TaskRegressor  = "regressor"
)

// mlKinds are the kinds of the ai.onnx.ml operators that make a whole
// model, by operator, with the task each performs.
var mlKinds = map[string]struct{ kind, task string }{
	"TreeEnsembleClassifier": {"tree ensemble", TaskClassifier},
	"TreeEnsembleRegressor":  {"tree ensemble", TaskRegressor},
	"TreeEnsemble":           {"tree ensemble", ""},
	"LinearClassifier":       {"linear model", TaskClassifier},
	"LinearRegressor":        {"linear model", TaskRegressor},
	"SVMClassifier":          {"support vector machine", TaskClassifier},
	"SVMRegressor":           {"support vector machine", TaskRegressor},
}

// hiddenActivations are the operators that make dense layers a neural
// network rather than one linear map.
var hiddenActivations = []string{"Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Gelu", "Tanh", "Softplus", "HardSwish", "Mish"}

// classifierOutputs are the operators that make a graph's output class
// probabilities or labels.
var classifierOutputs = []string{"Softmax", "Sigmoid", "ArgMax", "ZipMap"}

// kindOf names the kind of model a graph's operators make, and its task
// when they say it; the first rule that matches decides:
//
//   - an ai.onnx.ml model operator (tree ensemble, linear model, support
//     vector machine), with the task its name gives;
//   - Conv: a convolutional neural network; LSTM, GRU or RNN: a recurrent
//     one;
//   - two or more dense layers (Gemm, MatMul) with a hidden activation
//     (Relu, Tanh, …): a multilayer perceptron;
//   - one dense layer with Sigmoid or Softmax: logistic regression; one
//     without: a linear model;
//   - anything else: "unclassified".
//
// Softmax, Sigmoid, ArgMax or ZipMap make the task a classifier's.
func kindOf(ops []engine.OpCount) (kind, task string) {
	count := map[string]int{}
	for _, o := range ops {
		count[o.Type] += o.Count
		if k, ok := mlKinds[o.Type]; ok && o.Domain == "ai.onnx.ml" && kind == "" {
			kind, task = k.kind, k.task
		}
	}
	has := func(types ...string) bool {
		for _, t := range types {
			if count[t] > 0 {
				return true
			}
		}
		return false
	}
	if task == "" && has(classifierOutputs...) {
		task = TaskClassifier
	}
	dense := count["Gemm"] + count["MatMul"]
	switch {
	case kind != "":
	case has("Conv", "ConvTranspose"):
		kind = "convolutional neural network"
	case has("LSTM", "GRU", "RNN"):
		kind = "recurrent neural network"
	case dense >= 2 && has(hiddenActivations...):
		kind = "multilayer perceptron"
	case dense == 1 && has("Sigmoid", "Softmax"):
		kind = "logistic regression"
	case dense == 1:
		kind = "linear model"
	default:
		kind = "unclassified"
	}
	return kind, task
}
