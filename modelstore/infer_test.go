package modelstore

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
)

func request(t *testing.T, r *rand.Rand, rows, features int) *Request {
	t.Helper()
	x := make([]float32, rows*features)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return &Request{In: []engine.Tensor{engine.NewTensor("input", []int64{int64(rows), int64(features)}, x)}}
}

// TestBatchedEqualsAlone runs requests of mixed row counts as one batch
// through the runner and checks each one's outputs against the same
// request run alone.
func TestBatchedEqualsAlone(t *testing.T) {
	forest := onnx.RandomForest(5, 6, 6, 3)
	mlp := onnx.RandomMLP(5, onnx.ActivationSoftmax, 6, 32, 3)
	for name, model := range map[string]*onnx.Model{"forest": forest.Model(), "mlp": mlp.Model()} {
		t.Run(name, func(t *testing.T) {
			sess, err := engine.New(model.Marshal(), engine.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			r := rand.New(rand.NewPCG(1, 2))
			run := newRunner(sess, 1)
			defer run.close()
			b := &batcher.Batch[*Request]{}
			for _, rows := range []int{1, 3, 1, 7, 2} {
				req := request(t, r, rows, 6)
				req.Out = make([]engine.Tensor, len(sess.Signature().Outputs))
				b.Items = append(b.Items, &batcher.Item[*Request]{Payload: req, Rows: rows})
				b.Rows += rows
			}
			for range 2 { // the second time reuses the pooled gather and the outputs
				if err := run.Run(context.Background(), b); err != nil {
					t.Fatal(err)
				}
				for k, it := range b.Items {
					alone := make([]engine.Tensor, len(sess.Signature().Outputs))
					if err := sess.Run(it.Payload.In, alone); err != nil {
						t.Fatal(err)
					}
					for j := range alone {
						got, want := &it.Payload.Out[j], &alone[j]
						if got.Name != want.Name || got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) {
							t.Fatalf("item %d output %d: %s %s %v; alone %s %s %v", k, j, got.Name, got.DType, got.Shape, want.Name, want.DType, want.Shape)
						}
						if want.DType == engine.FP32 {
							g, _ := engine.Values[float32](got)
							w, _ := engine.Values[float32](want)
							for i := range w {
								if math.Abs(float64(g[i]-w[i])) > 1e-5 {
									t.Fatalf("item %d output %q[%d] = %v batched, %v alone", k, got.Name, i, g[i], w[i])
								}
							}
						} else if !slices.Equal(got.Data, want.Data) {
							t.Fatalf("item %d output %q differs batched and alone", k, got.Name)
						}
					}
				}
			}
		})
	}
}

func TestBatchShape(t *testing.T) {
	a := engine.Tensor{Name: "a", Shape: []int64{3, 4}}
	b := engine.Tensor{Name: "b", Shape: []int64{3, 2, 5}}
	rows, k1, err := batchShape([]engine.Tensor{a, b})
	if err != nil || rows != 3 {
		t.Fatalf("batchShape = %d, %v", rows, err)
	}
	a.Shape = []int64{9, 4}
	b.Shape = []int64{9, 2, 5}
	if _, k2, _ := batchShape([]engine.Tensor{a, b}); k2 != k1 {
		t.Fatal("the key depends on the row count")
	}
	b.Shape = []int64{9, 5, 2}
	if _, k3, _ := batchShape([]engine.Tensor{a, b}); k3 == k1 {
		t.Fatal("the key ignores the other dimensions")
	}
	b.Shape = []int64{8, 5, 2}
	if _, _, err := batchShape([]engine.Tensor{a, b}); !errors.Is(err, engine.ErrShape) {
		t.Fatalf("inputs with different row counts = %v; want ErrShape", err)
	}
}
