package engine_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// opsOf writes g's operator counts as "domain:Type×n", in order.
func opsOf(g *engine.Graph) []string {
	var out []string
	for _, o := range g.Ops {
		out = append(out, fmt.Sprintf("%s:%s×%d", o.Domain, o.Type, o.Count))
	}
	return out
}

func TestReadGraphSuccess(t *testing.T) {
	f := func(m *onnx.Model, wantOps, wantLabels []string) {
		t.Helper()
		b := m.Marshal()
		g, err := engine.ReadGraph(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("ReadGraph(%s) = %v", m.Graph.Name, err)
		}
		if g.ProducerName != onnx.ProducerName || g.IRVersion != onnx.IRVersion || g.Name != m.Graph.Name {
			t.Errorf("ReadGraph(%s) = producer %q, IR %d, name %q; want %q, %d, %q", m.Graph.Name, g.ProducerName, g.IRVersion, g.Name,
				onnx.ProducerName, onnx.IRVersion, m.Graph.Name)
		}
		if got := opsOf(g); !slices.Equal(got, wantOps) {
			t.Errorf("ReadGraph(%s).Ops = %q; want %q", m.Graph.Name, got, wantOps)
		}
		if !slices.Equal(g.ClassLabels, wantLabels) {
			t.Errorf("ReadGraph(%s).ClassLabels = %q; want %q", m.Graph.Name, g.ClassLabels, wantLabels)
		}
		if len(g.Opsets) == 0 || g.Opsets[0] != (engine.Opset{Version: onnx.OpsetVersion}) {
			t.Errorf("ReadGraph(%s).Opsets = %+v; want the default domain at %d first", m.Graph.Name, g.Opsets, onnx.OpsetVersion)
		}
	}
	mlp := onnx.RandomMLP(1, onnx.ActivationSoftmax, 4, 8, 8, 3).Model()
	f(mlp, []string{":Gemm×3", ":Relu×2", ":Softmax×1"}, nil)

	lr := (&onnx.LogReg{Weights: []float32{1, 2, 3}, Bias: []float32{0.5}}).Model()
	f(lr, []string{":ArgMax×1", ":Concat×1", ":Constant×1", ":Gemm×1", ":Sigmoid×1", ":Sub×1"}, nil)

	forest := onnx.RandomForest(1, 4, 3, 2).Model()
	f(forest, []string{onnx.MLDomain + ":TreeEnsembleClassifier×1"}, []string{"0", "1"})

	// String labels on a ZipMap, as skl2onnx writes a classifier's
	// probabilities; the labels of the first node that has them count.
	zipped := onnx.RandomForest(2, 4, 3, 2).Model()
	zipped.Graph.Name = "zipped"
	zipped.Graph.Nodes = append(zipped.Graph.Nodes, onnx.Node{OpType: "ZipMap", Domain: onnx.MLDomain,
		Inputs: []string{"probabilities"}, Outputs: []string{"zipped"}, Attrs: []onnx.Attr{onnx.StringsAttr("classlabels_strings", "legit", "fraud")}})
	f(zipped, []string{onnx.MLDomain + ":TreeEnsembleClassifier×1", onnx.MLDomain + ":ZipMap×1"}, []string{"0", "1"})
	zipped.Graph.Nodes = zipped.Graph.Nodes[1:]
	f(zipped, []string{onnx.MLDomain + ":ZipMap×1"}, []string{"legit", "fraud"})
}

// TestReadGraphFile reads a model from disk, and names a missing file.
func TestReadGraphFile(t *testing.T) {
	m := onnx.RandomMLP(3, onnx.ActivationSigmoid, 16, 32, 1).Model()
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := engine.ReadGraphFile(path)
	if err != nil || !slices.Equal(opsOf(g), []string{":Gemm×2", ":Relu×1", ":Sigmoid×1"}) {
		t.Fatalf("ReadGraphFile = %+v, %v", g, err)
	}
	if _, err := engine.ReadGraphFile(filepath.Join(t.TempDir(), "none.onnx")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadGraphFile of a missing file = %v; want ErrNotExist", err)
	}
}

func TestReadGraphFailure(t *testing.T) {
	good := onnx.RandomMLP(1, onnx.ActivationSoftmax, 4, 8, 3).Model().Marshal()
	f := func(name string, b []byte) {
		t.Helper()
		if g, err := engine.ReadGraph(bytes.NewReader(b), int64(len(b))); !errors.Is(err, engine.ErrGraph) {
			t.Fatalf("ReadGraph(%s) = %+v, %v; want ErrGraph", name, g, err)
		}
	}
	f("a truncated model", good[:len(good)/2])
	f("text", []byte("this is not a model at all, but words"))
	f("a length past the end", []byte{0x3a, 0xff, 0xff, 0x03, 0x01}) // graph, 65535 bytes, of which one is there
	f("a bad wire type", []byte{0x0f})
}
