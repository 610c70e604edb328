package modelstore_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// TestComputeCost runs requests through a version and checks its cost:
// the rows it predicted, model time charged, and the price per core-hour
// from the server, then from policy.yaml's cost block once it is edited,
// and the last good price when an edit is refused.
func TestComputeCost(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "fraud", small(1))
	st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, CostPerCoreHour: 0.5, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	v, err := st.Lookup("fraud", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, rows := range []int{1, 4, 2} {
		x := make([]float32, rows*3)
		r := &modelstore.Request{In: []engine.Tensor{engine.NewTensor("input", []int64{int64(rows), 3}, x)}}
		if err := v.Infer(r); err != nil {
			t.Fatal(err)
		}
	}
	c, ok := v.ComputeCost()
	if !ok || c.Predictions != 7 || c.Requests != 3 || c.ModelSeconds <= 0 || c.PerCoreHour != 0.5 {
		t.Fatalf("ComputeCost() = %+v, %v; want 7 predictions of 3 requests, model time, the server's price 0.5", c, ok)
	}
	price := func(body string) float64 {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "fraud", modelstore.PolicyFile), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := st.Load(context.Background(), "fraud"); err != nil && !errors.Is(err, modelstore.ErrPolicy) {
			t.Fatal(err)
		}
		c, _ := v.ComputeCost()
		return c.PerCoreHour
	}
	if p := price("cost: {per_core_hour: 0.048}\n"); p != 0.048 {
		t.Errorf("price after policy.yaml sets 0.048 = %v", p)
	}
	if p := price("cost: {per_core_hour: -3}\n"); p != 0.048 {
		t.Errorf("price after a refused policy.yaml = %v; want the last good 0.048", p)
	}
	if p := price("cost: {per_core_hour: 0}\n"); p != 0 {
		t.Errorf("price after policy.yaml sets 0 = %v; want none", p)
	}
	if p := price("batching: {max_batch_size: 8}\n"); p != 0.5 {
		t.Errorf("price after the cost block is removed = %v; want the server's 0.5", p)
	}
	if _, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, CostPerCoreHour: -1}); !errors.Is(err, modelstore.ErrConfig) {
		t.Errorf("Open with a negative price = %v; want ErrConfig", err)
	}
}
