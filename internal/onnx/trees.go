package onnx

import (
	"cmp"
	"fmt"
	"math/rand/v2"
)

// TreeNode is one node of a binary decision tree.
type TreeNode struct {
	// Leaf marks a leaf; the remaining fields but Prob are then unused.
	Leaf bool
	// Feature is the index of the feature a split reads.
	Feature int
	// Threshold is the split point: a row goes to True when
	// x[Feature] <= Threshold (ONNX's BRANCH_LEQ, sklearn's left child) and
	// to False otherwise.
	Threshold float32
	// True and False are the indices in Tree.Nodes of the two children.
	True, False int
	// Prob is, for a leaf, the probability of class 1 it predicts.
	Prob float32
}

// Tree is a binary decision tree whose node i has ONNX node id i. Nodes[0]
// is the root.
type Tree struct {
	// Nodes lists the tree's nodes.
	Nodes []TreeNode
}

// Forest is a binary random-forest classifier, written as skl2onnx writes a
// fitted sklearn RandomForestClassifier with zipmap disabled: one ai.onnx.ml
// TreeEnsembleClassifier node, post_transform NONE, classlabels_int64s
// [0, 1], and at each leaf a single weight for class id 0 equal to the
// leaf's class-1 probability divided by the number of trees. onnxruntime
// sums those weights into p, outputs probabilities [1-p, p], and label 1
// exactly when p > 0.5.
//
// The input is FP32 [N,Features], the outputs label INT64 [N] and
// probabilities FP32 [N,2], N being the dynamic dimension Batch. A Forest is
// read-only once built; its methods are safe for concurrent use.
type Forest struct {
	// Features is the number of input features; every split's Feature must
	// be below it.
	Features int
	// Trees are the forest's trees; there must be at least one.
	Trees []Tree
	// InputName names the input; empty means "input".
	InputName string
	// LabelName names the label output; empty means "label".
	LabelName string
	// ProbabilitiesName names the probabilities output; empty means
	// "probabilities".
	ProbabilitiesName string
}

// RandomForest returns a forest of the given number of complete trees of the
// given depth over features features, built deterministically from seed.
// Splits pick a uniform feature and a threshold drawn from N(0, 0.75²), so
// the trees branch usefully on standard-normal inputs; leaves predict a
// uniform probability. Node ids follow sklearn's depth-first order. It panics
// if any count is not positive.
func RandomForest(seed uint64, features, trees, depth int) *Forest {
	if features <= 0 || trees <= 0 || depth <= 0 {
		panic(fmt.Sprintf("BUG: onnx: RandomForest(%d features, %d trees, depth %d)", features, trees, depth))
	}
	rng := rand.New(rand.NewPCG(seed, 0x666f72))
	f := &Forest{Features: features, Trees: make([]Tree, trees)}
	for t := range f.Trees {
		f.Trees[t].grow(rng, features, depth)
	}
	return f
}

// grow appends a complete subtree of the given depth to t and returns the
// index of its root.
func (t *Tree) grow(rng *rand.Rand, features, depth int) int {
	i := len(t.Nodes)
	if depth == 0 {
		t.Nodes = append(t.Nodes, TreeNode{Leaf: true, Prob: float32(rng.Float64())})
		return i
	}
	t.Nodes = append(t.Nodes, TreeNode{
		Feature:   rng.IntN(features),
		Threshold: float32(rng.NormFloat64() * 0.75),
	})
	left := t.grow(rng, features, depth-1)
	right := t.grow(rng, features, depth-1)
	t.Nodes[i].True, t.Nodes[i].False = left, right
	return i
}

// leafWeight is the class weight skl2onnx writes for a leaf: its probability
// divided by the number of trees, in float32.
func (f *Forest) leafWeight(n *TreeNode) float32 {
	return float32(float64(n.Prob) / float64(len(f.Trees)))
}

// Model returns the ONNX model.
func (f *Forest) Model() *Model {
	input := cmp.Or(f.InputName, "input")
	label := cmp.Or(f.LabelName, "label")
	probs := cmp.Or(f.ProbabilitiesName, "probabilities")

	var (
		classIDs, classNodeIDs, classTreeIDs                     []int64
		classWeights, values                                     []float32
		falseIDs, featureIDs, missing, nodeIDs, treeIDs, trueIDs []int64
		modes                                                    []string
	)
	for t := range f.Trees {
		for i := range f.Trees[t].Nodes {
			n := &f.Trees[t].Nodes[i]
			treeIDs = append(treeIDs, int64(t))
			nodeIDs = append(nodeIDs, int64(i))
			missing = append(missing, 0)
			if n.Leaf {
				modes = append(modes, "LEAF")
				featureIDs = append(featureIDs, 0)
				values = append(values, 0)
				trueIDs = append(trueIDs, 0)
				falseIDs = append(falseIDs, 0)
				classTreeIDs = append(classTreeIDs, int64(t))
				classNodeIDs = append(classNodeIDs, int64(i))
				classIDs = append(classIDs, 0)
				classWeights = append(classWeights, f.leafWeight(n))
				continue
			}
			modes = append(modes, "BRANCH_LEQ")
			featureIDs = append(featureIDs, int64(n.Feature))
			values = append(values, n.Threshold)
			trueIDs = append(trueIDs, int64(n.True))
			falseIDs = append(falseIDs, int64(n.False))
		}
	}
	node := Node{
		OpType:  "TreeEnsembleClassifier",
		Domain:  MLDomain,
		Inputs:  names(input),
		Outputs: names(label, probs),
		Attrs: []Attr{ // sorted by name, as onnx.helper.make_node writes them
			IntsAttr("class_ids", classIDs...),
			IntsAttr("class_nodeids", classNodeIDs...),
			IntsAttr("class_treeids", classTreeIDs...),
			FloatsAttr("class_weights", classWeights...),
			IntsAttr("classlabels_int64s", 0, 1),
			IntsAttr("nodes_falsenodeids", falseIDs...),
			IntsAttr("nodes_featureids", featureIDs...),
			IntsAttr("nodes_missing_value_tracks_true", missing...),
			StringsAttr("nodes_modes", modes...),
			IntsAttr("nodes_nodeids", nodeIDs...),
			IntsAttr("nodes_treeids", treeIDs...),
			IntsAttr("nodes_truenodeids", trueIDs...),
			FloatsAttr("nodes_values", values...),
			StringAttr("post_transform", "NONE"),
		},
	}
	return &Model{Graph: Graph{
		Name:   "forest",
		Nodes:  []Node{node},
		Inputs: []ValueInfo{tensorInfo(input, Float, DimParam(Batch), DimValue(int64(f.Features)))},
		Outputs: []ValueInfo{
			tensorInfo(label, Int64, DimParam(Batch)),
			tensorInfo(probs, Float, DimParam(Batch), DimValue(2)),
		},
	}}
}

// Predict is the reference implementation of Model: for x holding N rows of
// Features values it returns the N labels and the N×2 probabilities,
// row-major, in new slices. Like onnxruntime it adds the leaf weights in
// float32 in tree order. It panics if len(x) is not a multiple of Features.
func (f *Forest) Predict(x []float32) (labels []int64, probs []float32) {
	n := rows(x, f.Features)
	labels = make([]int64, n)
	probs = make([]float32, 2*n)
	for r := range n {
		row := x[r*f.Features : (r+1)*f.Features]
		var p float32
		for t := range f.Trees {
			p += f.leafWeight(f.Trees[t].leaf(row))
		}
		probs[2*r], probs[2*r+1] = 1-p, p
		if p > 0.5 {
			labels[r] = 1
		}
	}
	return labels, probs
}

// leaf returns the leaf that row reaches.
func (t *Tree) leaf(row []float32) *TreeNode {
	n := &t.Nodes[0]
	for !n.Leaf {
		if row[n.Feature] <= n.Threshold {
			n = &t.Nodes[n.True]
		} else {
			n = &t.Nodes[n.False]
		}
	}
	return n
}
