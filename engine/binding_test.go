package engine_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
)

// TestBindingMatchesRun runs a binding several times with new data and
// checks each answer against Run, for a model whose outputs are
// preallocated and for one whose outputs onnxruntime sizes.
func TestBindingMatchesRun(t *testing.T) {
	models := map[string]struct {
		model *onnx.Model
		shape []int64
	}{
		"forest":  {onnx.RandomForest(2, 5, 4, 3).Model(), []int64{3, 5}},
		"dynamic": {(&onnx.Affine{Shape: []onnx.Dim{onnx.DimParam("N"), onnx.DimParam("M")}, Scale: 2, Offset: 1}).Model(), []int64{2, 7}},
	}
	for name, m := range models {
		t.Run(name, func(t *testing.T) {
			s := open(t, m.model)
			b, err := s.Bind([][]int64{m.shape})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			for round := range 3 {
				x := testenv.Rows(uint64(round), int(engine.Elements(m.shape)))
				in := engine.NewTensor("input", m.shape, x)
				copy(b.In[0].Data, in.Data)
				if err := b.Run(); err != nil {
					t.Fatal(err)
				}
				want := run(t, s, in)
				for j := range want {
					if !slices.Equal(b.Out[j].Shape, want[j].Shape) || !slices.Equal(b.Out[j].Data, want[j].Data) {
						t.Fatalf("round %d output %d: binding %v, Run %v", round, j, b.Out[j].Shape, want[j].Shape)
					}
				}
			}
		})
	}
}

func TestBindRefusesBadShapes(t *testing.T) {
	s := open(t, onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model())
	for _, shapes := range [][][]int64{{{2, 4}}, {{2}}, {}, {{1, 3}, {1, 3}}, {{0, 3}}} {
		if _, err := s.Bind(shapes); !errors.Is(err, engine.ErrShape) {
			t.Errorf("Bind(%v) = %v; want ErrShape", shapes, err)
		}
	}
}
