package ops_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// small is a model the tests publish: a random affine map of 3 inputs.
func small(seed uint64) []byte {
	return onnx.RandomMLP(seed, onnx.ActivationNone, 3, 2).Model().Marshal()
}

// openTracking opens a real tracking store in a temporary directory.
func openTracking(t *testing.T) *tracking.Store {
	t.Helper()
	st, err := tracking.Open(context.Background(), t.TempDir(), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// registry returns a registry directory with n versions of model m.
func registry(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		if _, err := modelstore.Publish(dir, "m", small(uint64(i+1)), modelstore.PublishOptions{CreatedBy: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func newService(t *testing.T, cfg ops.Config) *ops.Service {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	svc, err := ops.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// lastAudit returns the newest audit entry of model m.
func lastAudit(t *testing.T, st *tracking.Store) tracking.Entry {
	t.Helper()
	entries, err := st.AuditLog(context.Background(), tracking.AuditQuery{Model: "m", Limit: 1})
	if err != nil || len(entries) == 0 {
		t.Fatalf("audit log = %v, %v; want an entry", entries, err)
	}
	return entries[0]
}

// failingTracking is the real store, with RecordPublish, UndoPublish or
// Audit failing on demand.
type failingTracking struct {
	*tracking.Store
	failRecord, failUndo, failAudit bool
}

var errInjected = errors.New("injected failure")

func (f *failingTracking) RecordPublish(ctx context.Context, p tracking.Publication) (*tracking.Recorded, error) {
	if f.failRecord {
		return nil, errInjected
	}
	return f.Store.RecordPublish(ctx, p)
}

func (f *failingTracking) Audit(ctx context.Context, e tracking.Entry) error {
	if f.failAudit {
		return errInjected
	}
	return f.Store.Audit(ctx, e)
}

func (f *failingTracking) UndoPublish(ctx context.Context, r *tracking.Recorded) error {
	if f.failUndo {
		return errInjected
	}
	return f.Store.UndoPublish(ctx, r)
}

// hidden lists what starts with a dot in the model's directory: staged
// versions left behind.
func hidden(t *testing.T, reg string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(reg, "m", ".*"))
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(matches, func(p string) bool { return filepath.Base(p) == ".switchyard" })
}
