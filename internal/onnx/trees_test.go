package onnx

import (
	"bytes"
	"reflect"
	"testing"
)

// stump returns a one-split tree: feature f <= thr gives pLeft, else pRight.
func stump(f int, thr, pLeft, pRight float32) Tree {
	return Tree{Nodes: []TreeNode{
		{Feature: f, Threshold: thr, True: 1, False: 2},
		{Leaf: true, Prob: pLeft},
		{Leaf: true, Prob: pRight},
	}}
}

func TestForestPredict(t *testing.T) {
	forest := &Forest{Features: 2, Trees: []Tree{
		stump(0, 0.5, 0.2, 0.9),
		stump(1, -1, 0.4, 0.6),
	}}
	f := func(x []float32, wantLabels []int64, wantProbs []float32) {
		t.Helper()
		labels, probs := forest.Predict(x)
		if !reflect.DeepEqual(labels, wantLabels) || !closeTo(probs, wantProbs) {
			t.Fatalf("Predict(%v) = %v, %v; want %v, %v", x, labels, probs, wantLabels, wantProbs)
		}
	}
	f([]float32{0, 0}, []int64{0}, []float32{0.6, 0.4})      // (0.2 + 0.6) / 2
	f([]float32{0.5, -1}, []int64{0}, []float32{0.7, 0.3})   // both thresholds hit exactly: BRANCH_LEQ goes true
	f([]float32{0.51, 5}, []int64{1}, []float32{0.25, 0.75}) // (0.9 + 0.6) / 2
	f([]float32{1, -2}, []int64{1}, []float32{0.35, 0.65})   // (0.9 + 0.4) / 2
	forest.Trees = []Tree{stump(0, 0, 0.75, 0.75), stump(0, 0, 0.25, 0.25)}
	f([]float32{1, 0}, []int64{0}, []float32{0.5, 0.5}) // p = 0.375 + 0.125 is not > 0.5: label 0
}

func TestRandomForest(t *testing.T) {
	forest := RandomForest(1, 6, 5, 3)
	if len(forest.Trees) != 5 || forest.Features != 6 {
		t.Fatalf("RandomForest(1, 6, 5, 3) has %d trees over %d features", len(forest.Trees), forest.Features)
	}
	for i, tree := range forest.Trees {
		leaves := 0
		for j, n := range tree.Nodes {
			switch {
			case n.Leaf:
				leaves++
			case n.Feature < 0 || n.Feature >= 6 || n.True <= j || n.False <= j:
				t.Fatalf("tree %d node %d = %+v: bad split", i, j, n)
			}
		}
		if len(tree.Nodes) != 15 || leaves != 8 {
			t.Fatalf("tree %d has %d nodes and %d leaves; want 15 and 8", i, len(tree.Nodes), leaves)
		}
	}
	a := forest.Model().Marshal()
	if b := RandomForest(1, 6, 5, 3).Model().Marshal(); !bytes.Equal(a, b) {
		t.Fatalf("RandomForest(1) made different bytes on two calls")
	}
	if b := RandomForest(2, 6, 5, 3).Model().Marshal(); bytes.Equal(a, b) {
		t.Fatalf("RandomForest(1) and RandomForest(2) made the same bytes")
	}
}

func TestForestModel(t *testing.T) {
	forest := &Forest{Features: 2, Trees: []Tree{stump(1, 0.25, 0.2, 0.8), stump(0, -1, 1, 0)}}
	g := decodeModel(t, forest.Model().Marshal()).Graph
	if len(g.Nodes) != 1 || g.Nodes[0].OpType != "TreeEnsembleClassifier" || g.Nodes[0].Domain != MLDomain {
		t.Fatalf("nodes = %+v; want one ai.onnx.ml TreeEnsembleClassifier", g.Nodes)
	}
	attrs := map[string]Attr{}
	for _, a := range g.Nodes[0].Attrs {
		attrs[a.name] = a
	}
	ints := func(name string, want ...int64) {
		t.Helper()
		if got := attrs[name].ints; !reflect.DeepEqual(got, want) {
			t.Fatalf("%s = %v; want %v", name, got, want)
		}
	}
	floats := func(name string, want ...float32) {
		t.Helper()
		if got := attrs[name].floats; !reflect.DeepEqual(got, want) {
			t.Fatalf("%s = %v; want %v", name, got, want)
		}
	}
	ints("nodes_treeids", 0, 0, 0, 1, 1, 1)
	ints("nodes_nodeids", 0, 1, 2, 0, 1, 2)
	ints("nodes_featureids", 1, 0, 0, 0, 0, 0)
	ints("nodes_truenodeids", 1, 0, 0, 1, 0, 0)
	ints("nodes_falsenodeids", 2, 0, 0, 2, 0, 0)
	floats("nodes_values", 0.25, 0, 0, -1, 0, 0)
	ints("class_treeids", 0, 0, 1, 1)
	ints("class_nodeids", 1, 2, 1, 2)
	ints("class_ids", 0, 0, 0, 0)
	floats("class_weights", 0.1, 0.4, 0.5, 0)
	ints("classlabels_int64s", 0, 1)
	if got := attrs["nodes_modes"].strings; !reflect.DeepEqual(got, []string{"BRANCH_LEQ", "LEAF", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF"}) {
		t.Fatalf("nodes_modes = %v", got)
	}
	if got := attrs["post_transform"].s; got != "NONE" {
		t.Fatalf("post_transform = %q; want NONE", got)
	}
}
