package onnx

import "cmp"

// LogReg is a logistic-regression classifier over F float features and K
// linear outputs, with the graph Gemm(input, Weights, Bias) followed by:
//
//   - K = 1 (binary, as sklearn exports it): p = Sigmoid, probabilities
//     [N,2] = [1-p, p], label = ArgMax, so label is 1 exactly when p > 1-p.
//   - K > 1 (multiclass): probabilities [N,K] = Softmax over classes,
//     label = ArgMax (the first class on a tie).
//
// The input is FP32 [N,F] and the outputs are label INT64 [N] and
// probabilities FP32 [N,max(K,2)], N being the dynamic dimension Batch.
// A LogReg is read-only once built; its methods are safe for concurrent use.
type LogReg struct {
	// Weights is the [F,K] coefficient matrix, row-major: the weight of
	// feature f for output k is Weights[f*K+k]. Its length fixes F.
	Weights []float32
	// Bias holds the K intercepts. Its length fixes K, which must be >= 1.
	Bias []float32
	// InputName names the input; empty means "input".
	InputName string
	// LabelName names the label output; empty means "label".
	LabelName string
	// ProbabilitiesName names the probabilities output; empty means
	// "probabilities".
	ProbabilitiesName string
}

// Features returns F, the number of input features.
func (lr *LogReg) Features() int { return len(lr.Weights) / len(lr.Bias) }

// Classes returns the number of classes: 2 for a binary model, else K.
func (lr *LogReg) Classes() int { return max(len(lr.Bias), 2) }

// Model returns the ONNX model. It refers to lr's slices without copying
// them.
func (lr *LogReg) Model() *Model {
	input := cmp.Or(lr.InputName, "input")
	label := cmp.Or(lr.LabelName, "label")
	probs := cmp.Or(lr.ProbabilitiesName, "probabilities")
	f, k := int64(lr.Features()), int64(len(lr.Bias))

	g := Graph{
		Name: "logreg",
		Initializers: []Tensor{
			FloatTensor("coef", []int64{f, k}, lr.Weights),
			FloatTensor("intercept", []int64{k}, lr.Bias),
		},
		Inputs: []ValueInfo{tensorInfo(input, Float, DimParam(Batch), DimValue(f))},
		Outputs: []ValueInfo{
			tensorInfo(label, Int64, DimParam(Batch)),
			tensorInfo(probs, Float, DimParam(Batch), DimValue(int64(lr.Classes()))),
		},
	}
	if k == 1 {
		g.Nodes = []Node{
			op("Gemm", names(input, "coef", "intercept"), names("logit")),
			op("Sigmoid", names("logit"), names("p1")),
			op("Constant", nil, names("one"), TensorAttr("value", FloatTensor("", []int64{1}, []float32{1}))),
			op("Sub", names("one", "p1"), names("p0")),
			op("Concat", names("p0", "p1"), names(probs), IntAttr("axis", 1)),
		}
	} else {
		g.Nodes = []Node{
			op("Gemm", names(input, "coef", "intercept"), names("logits")),
			op("Softmax", names("logits"), names(probs), IntAttr("axis", 1)),
		}
	}
	g.Nodes = append(g.Nodes, op("ArgMax", names(probs), names(label), IntAttr("axis", 1), IntAttr("keepdims", 0)))
	return &Model{Graph: g}
}

// Predict is the reference implementation of Model: for x holding N rows of
// F features it returns the N labels and the N×Classes() probabilities,
// row-major, in new slices. It panics if len(x) is not a multiple of F.
func (lr *LogReg) Predict(x []float32) (labels []int64, probs []float32) {
	f, k, c := lr.Features(), len(lr.Bias), lr.Classes()
	n := rows(x, f)
	labels = make([]int64, n)
	probs = make([]float32, n*c)
	z := make([]float32, k)
	for r := range n {
		dense(z, x[r*f:(r+1)*f], lr.Weights, lr.Bias)
		p := probs[r*c : (r+1)*c]
		if k == 1 {
			p[1] = sigmoid(z[0])
			p[0] = 1 - p[1]
		} else {
			copy(p, z)
			softmax(p)
		}
		labels[r] = argmax(p)
	}
	return labels, probs
}
