package demo

import (
	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// The names of the demo models' outputs, as onnx.LogReg names them by
// default.
const (
	// LabelName is the output holding each row's class, INT64 [N].
	LabelName = "label"
	// ProbabilitiesName is the output holding each row's class
	// probabilities, FP32 [N,2]: [P(legit), P(fraud)], as Classes names them.
	ProbabilitiesName = "probabilities"
)

// MLPClassifier is a classifier made of an onnx.MLP whose softmax outputs
// are the class probabilities: its model outputs LabelName, INT64 [N], the
// ArgMax of each row (the first class on a tie), then the MLP's output,
// FP32 [N,K], so that it has the signature of an onnx.LogReg. An
// MLPClassifier is read-only once built; its methods are safe for
// concurrent use.
type MLPClassifier struct {
	// MLP computes the probabilities. Its Final must be
	// onnx.ActivationSoftmax and its output should be named
	// ProbabilitiesName.
	MLP *onnx.MLP
}

// Model returns the ONNX model: the MLP's graph with an ArgMax node and the
// label output added. It refers to the MLP's slices without copying them.
func (c *MLPClassifier) Model() *onnx.Model {
	m := c.MLP.Model()
	g := &m.Graph
	probs := g.Outputs[0]
	g.Nodes = append(g.Nodes, onnx.Node{OpType: "ArgMax", Inputs: []string{probs.Name}, Outputs: []string{LabelName},
		Attrs: []onnx.Attr{onnx.IntAttr("axis", 1), onnx.IntAttr("keepdims", 0)}})
	g.Outputs = []onnx.ValueInfo{{Name: LabelName, Type: onnx.Int64, Shape: []onnx.Dim{onnx.DimParam(onnx.Batch)}}, probs}
	return m
}

// Predict is the reference implementation of Model: for x holding N rows
// of the MLP's features it returns the N labels and the N×K
// probabilities, row-major, in new slices. It panics if len(x) is not a
// multiple of the number of features.
func (c *MLPClassifier) Predict(x []float32) (labels []int64, probs []float32) {
	probs = c.MLP.Predict(x)
	k := c.MLP.Outputs()
	labels = make([]int64, len(probs)/k)
	for r := range labels {
		row := probs[r*k : (r+1)*k]
		for j, p := range row {
			if p > row[labels[r]] {
				labels[r] = int64(j)
			}
		}
	}
	return labels, probs
}
