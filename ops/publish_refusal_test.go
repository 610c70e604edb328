package ops_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
)

// TestPublishRefusesDeclaredHugeTensor publishes issue 23's probe model,
// whose input is declared [N, 500000000] FP32: it is rejected (a 4xx for
// the API) with the engine's numbers, before warm-up allocates anything,
// and nothing is written.
func TestPublishRefusesDeclaredHugeTensor(t *testing.T) {
	reg := registry(t, 1)
	model := onnx.Identity(onnx.Float, onnx.DimParam("N"), onnx.DimValue(500_000_000)).Marshal()
	v, err := newService(t, ops.Config{Registry: reg}).Publish(context.Background(), "m", model, ops.PublishSpec{})
	if v != 0 || !errors.Is(err, ops.ErrRejected) || !errors.Is(err, engine.ErrTooLarge) {
		t.Fatalf("Publish(probe model) = %d, %v; want ErrRejected wrapping engine.ErrTooLarge", v, err)
	}
	if errors.Is(err, modelstore.ErrRegistryWrite) {
		t.Fatalf("Publish(probe model) = %v; a refused model is not a registry failure", err)
	}
	assertUnchanged(t, reg)
}

// TestPublishRegistryNotWritable makes staging fail for real: a regular
// file stands where the model's directory goes. That is the registry's
// failure, not the model's, so it must not read as a rejection.
func TestPublishRegistryNotWritable(t *testing.T) {
	reg := t.TempDir()
	if err := os.WriteFile(filepath.Join(reg, "m"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := newService(t, ops.Config{Registry: reg}).Publish(context.Background(), "m", small(1), ops.PublishSpec{})
	if v != 0 || !errors.Is(err, modelstore.ErrRegistryWrite) || !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("Publish over a file = %d, %v; want ErrRegistryWrite wrapping ENOTDIR", v, err)
	}
	if errors.Is(err, ops.ErrRejected) {
		t.Fatalf("Publish over a file = %v; want it not to read as a rejected model", err)
	}
}

// assertUnchanged checks that the registry still holds version 1 of m
// alone, with nothing staged beside it.
func assertUnchanged(t *testing.T, reg string) {
	t.Helper()
	if complete, all, err := modelstore.Versions(reg, "m"); err != nil || !slices.Equal(complete, []int{1}) || !slices.Equal(all, []int{1}) {
		t.Fatalf("versions = %v %v, %v; want [1]", complete, all, err)
	}
	if left := hidden(t, reg); len(left) > 0 {
		t.Fatalf("left in the model directory: %v", left)
	}
}
