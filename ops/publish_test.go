package ops_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestPublishFaults fails a publish at each of its steps (staging, the
// tracking transaction, the rename into place, the rename and its undo)
// and checks that each failure leaves neither a version without its
// records nor records without a version, and that a retry then publishes
// the version whole.
func TestPublishFaults(t *testing.T) {
	ctx := context.Background()
	f := func(name string, inject func(reg string, ft *failingTracking) (model []byte, heal func()), want error) {
		t.Run(name, func(t *testing.T) {
			reg := registry(t, 1)
			st := openTracking(t)
			run, err := st.CreateRun(ctx, tracking.RunSpec{ExperimentID: tracking.DefaultExperimentID, UserID: "ana"})
			if err != nil {
				t.Fatal(err)
			}
			id := run.Info.RunID
			spec := ops.PublishSpec{
				Options: modelstore.PublishOptions{CreatedBy: "ana", Lineage: &modelstore.Lineage{RunID: id}},
				EndRun:  true,
				Meta:    &tracking.ModelVersion{Description: "retrained", Source: "/tmp/model.onnx", UserID: "ana", Tags: []tracking.Tag{{Key: "k", Value: "v"}}},
				Actor:   "ana", Reason: "nightly", Details: map[string]any{"run_id": id},
			}
			ft := &failingTracking{Store: st}
			model, heal := inject(reg, ft)
			svc := newService(t, ops.Config{Registry: reg, Tracking: ft})
			if v, err := svc.Publish(ctx, "m", model, spec); !errors.Is(err, want) || v != 0 {
				t.Fatalf("Publish with a fault = %d, %v; want 0 and %v", v, err, want)
			}
			// Nothing is half-done: no version 2, nothing staged, no record.
			if complete, all, err := modelstore.Versions(reg, "m"); err != nil || !slices.Equal(complete, []int{1}) || !slices.Equal(all, []int{1}) {
				t.Fatalf("versions after the fault = %v %v, %v; want [1]", complete, all, err)
			}
			if left := hidden(t, reg); len(left) > 0 {
				t.Fatalf("left in the model directory: %v", left)
			}
			if r, err := st.VersionRun(ctx, "m", 2); !errors.Is(err, tracking.ErrNotFound) {
				t.Fatalf("lineage of version 2 = %q, %v; want none", r, err)
			}
			if mv, err := st.ModelVersion(ctx, "m", 2); !errors.Is(err, tracking.ErrNotFound) {
				t.Fatalf("MLflow record of version 2 = %+v, %v; want none", mv, err)
			}
			if entries, err := st.AuditLog(ctx, tracking.AuditQuery{Model: "m"}); err != nil || len(entries) != 0 {
				t.Fatalf("audit log = %+v, %v; want empty", entries, err)
			}
			if r, err := st.Run(ctx, id); err != nil || r.Info.Status != tracking.StatusRunning || r.Info.EndTime != 0 {
				t.Fatalf("run = %+v, %v; want it running, as before", r, err)
			}

			// A retry publishes it whole.
			heal()
			v, err := newService(t, ops.Config{Registry: reg, Tracking: st}).Publish(ctx, "m", small(2), spec)
			if err != nil || v != 2 {
				t.Fatalf("retry = %d, %v; want version 2", v, err)
			}
			if mf, err := modelstore.ReadManifest(modelstore.VersionDir(reg, "m", 2)); err != nil || mf.Lineage == nil || mf.Lineage.RunID != id {
				t.Fatalf("manifest = %+v, %v; want lineage to %s", mf, err, id)
			}
			if r, err := st.VersionRun(ctx, "m", 2); err != nil || r != id {
				t.Fatalf("lineage of version 2 = %q, %v; want %s", r, err, id)
			}
			if mv, err := st.ModelVersion(ctx, "m", 2); err != nil || mv.Source != "/tmp/model.onnx" || len(mv.Tags) != 1 {
				t.Fatalf("MLflow record of version 2 = %+v, %v", mv, err)
			}
			e := lastAudit(t, st)
			if e.Action != "publish" || e.Actor != "ana" || !slices.Equal(e.Versions, []int{2}) || e.Details["run_id"] != id {
				t.Fatalf("audit entry = %+v; want the publish of version 2", e)
			}
			if r, err := st.Run(ctx, id); err != nil || r.Info.Status != tracking.StatusFinished || r.Info.EndTime == 0 {
				t.Fatalf("run = %+v, %v; want it finished", r, err)
			}
		})
	}
	noHeal := func() {}
	f("stage", func(string, *failingTracking) ([]byte, func()) {
		return []byte("not onnx"), noHeal
	}, ops.ErrRejected)
	f("record", func(_ string, ft *failingTracking) ([]byte, func()) {
		ft.failRecord = true
		return small(2), noHeal
	}, errInjected)
	// A file where version 2's directory goes makes the rename fail
	// (ENOTDIR); the listing of versions ignores it.
	blockRename := func(reg string) func() {
		path := filepath.Join(reg, "m", "2")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return func() { os.Remove(path) }
	}
	f("rename", func(reg string, _ *failingTracking) ([]byte, func()) {
		return small(2), blockRename(reg)
	}, syscall.ENOTDIR)
}

// TestPublishUndoFails: when the rename fails and undoing the records
// fails too, the error says both, and the version stays invisible.
func TestPublishUndoFails(t *testing.T) {
	ctx := context.Background()
	reg := registry(t, 1)
	st := openTracking(t)
	if err := os.WriteFile(filepath.Join(reg, "m", "2"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	svc := newService(t, ops.Config{Registry: reg, Tracking: &failingTracking{Store: st, failUndo: true}})
	_, err := svc.Publish(ctx, "m", small(2), ops.PublishSpec{Actor: "ana"})
	if !errors.Is(err, errInjected) {
		t.Fatalf("Publish = %v; want the rename's error joined with the undo's", err)
	}
	if complete, _, _ := modelstore.Versions(reg, "m"); !slices.Equal(complete, []int{1}) {
		t.Fatalf("versions = %v; want [1]", complete)
	}
}

// TestPublishWithoutTracking publishes with nothing to record.
func TestPublishWithoutTracking(t *testing.T) {
	reg := t.TempDir()
	v, err := newService(t, ops.Config{Registry: reg}).Publish(context.Background(), "m", small(1), ops.PublishSpec{})
	if err != nil || v != 1 {
		t.Fatalf("Publish = %d, %v; want version 1", v, err)
	}
}
