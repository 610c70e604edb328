package bench

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/onnx"
)

func TestInProcess(t *testing.T) {
	model := onnx.RandomMLP(1, onnx.ActivationSoftmax, 30, 64, 2).Model().Marshal()
	r, err := InProcess(context.Background(), InProcessConfig{Name: "small", Model: model, BatchSizes: []int{1, 8}, Duration: 50 * time.Millisecond, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.Model != "small" || r.Concurrency != 2 || len(r.Batches) != 2 {
		t.Fatalf("InProcess = %+v; want small, 2 goroutines, 2 batch sizes", r)
	}
	for i, b := range r.Batches {
		if b.BatchSize != []int{1, 8}[i] || b.Runs == 0 || b.Rows != b.Runs*int64(b.BatchSize) || b.Seconds < 0.05 || b.RowsPerSec <= 0 || b.MeanRun <= 0 {
			t.Fatalf("batch %d = %+v", i, b)
		}
		if b.RowsPerSec > r.Best.RowsPerSec {
			t.Fatalf("Best = %+v, but batch %d did better: %+v", r.Best, b.BatchSize, b)
		}
	}
}

func TestInProcessFailure(t *testing.T) {
	f := func(what string, cfg InProcessConfig) {
		t.Helper()
		cfg.Duration = 10 * time.Millisecond
		if r, err := InProcess(context.Background(), cfg); err == nil {
			t.Errorf("InProcess with %s = %+v; want an error", what, r)
		}
	}
	mlp := onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model().Marshal()
	f("garbage", InProcessConfig{Model: []byte("not onnx")})
	f("no batch axis", InProcessConfig{Model: (&onnx.Affine{Shape: []onnx.Dim{onnx.DimValue(1), onnx.DimValue(4)}, Scale: 2}).Model().Marshal()})
	f("batch size 0", InProcessConfig{Model: mlp, BatchSizes: []int{0}})
	f("negative concurrency", InProcessConfig{Model: mlp, Concurrency: -1})
}

func TestInProcessCancel(t *testing.T) {
	model := onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model().Marshal()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := InProcess(ctx, InProcessConfig{Model: model, Duration: time.Minute}); err == nil {
		t.Fatal("InProcess with a cancelled context succeeded")
	}
}
