package modelstore_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// TestBatchSizeBoundByTensorLimit checks that a version's batches never
// grow past what the engine's MaxTensorBytes allows, so that no batch of
// small requests is refused for its size.
func TestBatchSizeBoundByTensorLimit(t *testing.T) {
	dir := t.TempDir()
	wide := &onnx.Affine{Shape: []onnx.Dim{onnx.DimParam("N"), onnx.DimValue(1024)}, Scale: 2, Offset: 1} // 4 KiB a row
	testenv.Publish(t, dir, "wide", wide.Model())
	st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler),
		Engine: engine.Config{MaxTensorBytes: 64 << 10}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(st.Close)
	v, err := st.Lookup("wide", 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.Batching.MaxBatchSize != 16 {
		t.Fatalf("max batch size %d; want 16, the rows of 4 KiB that fit 64 KiB", v.Batching.MaxBatchSize)
	}
}
