package ops_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestDeleteModel removes a model's directory, what MLflow kept of it, and
// audits it; an unknown model is ErrNotFound.
func TestDeleteModel(t *testing.T) {
	ctx := context.Background()
	reg := registry(t, 2)
	st := openTracking(t)
	if err := st.CreateRegisteredModel(ctx, "m", "a model", nil); err != nil {
		t.Fatal(err)
	}
	svc := newService(t, ops.Config{Registry: reg, Tracking: st})
	if err := svc.DeleteModel(ctx, "m", "mlflow-api", "registered-models/delete"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(reg)
	if err != nil || len(entries) != 0 {
		t.Fatalf("registry after the delete = %v, %v; want empty", entries, err)
	}
	if _, err := st.RegisteredModel(ctx, "m"); !errors.Is(err, tracking.ErrNotFound) {
		t.Fatalf("registered model after the delete = %v; want ErrNotFound", err)
	}
	if e := lastAudit(t, st); e.Action != "delete" || e.Actor != "mlflow-api" {
		t.Fatalf("audit = %+v; want the delete", e)
	}
	if err := svc.DeleteModel(ctx, "m", "mlflow-api", "again"); !errors.Is(err, modelstore.ErrNotFound) {
		t.Fatalf("second delete = %v; want ErrNotFound", err)
	}
	if err := os.WriteFile(filepath.Join(reg, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteModel(ctx, "file", "a", "b"); !errors.Is(err, modelstore.ErrNotFound) {
		t.Fatalf("delete of a file = %v; want ErrNotFound", err)
	}
}
