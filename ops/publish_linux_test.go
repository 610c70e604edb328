package ops_test

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
)

// TestPublishDiskFull publishes onto a registry whose disk is full: a
// 64 KiB tmpfs, too small for a 200 KB model. The publish fails with
// ErrRegistryWrite wrapping ENOSPC (a 5xx that clients retry), not as a
// rejected model, and leaves nothing behind.
func TestPublishDiskFull(t *testing.T) {
	reg := testenv.SmallDisk(t, 64<<10)
	if _, err := modelstore.Publish(reg, "m", small(1), modelstore.PublishOptions{CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	big := onnx.RandomMLP(4, onnx.ActivationNone, 200, 256, 2).Model().Marshal()
	if len(big) < 128<<10 {
		t.Fatalf("model is %d bytes; want one that cannot fit 64 KiB", len(big))
	}
	v, err := newService(t, ops.Config{Registry: reg}).Publish(context.Background(), "m", big, ops.PublishSpec{})
	if v != 0 || !errors.Is(err, modelstore.ErrRegistryWrite) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Publish onto a full disk = %d, %v; want ErrRegistryWrite wrapping ENOSPC", v, err)
	}
	if errors.Is(err, ops.ErrRejected) {
		t.Fatalf("Publish onto a full disk = %v; want it not to read as a rejected model", err)
	}
	assertUnchanged(t, reg)
}
