package ops_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestAuditLifecycle runs the lifecycle auditor on a real store and a
// real tracking store: a published version is audited as loaded, a
// corrupt one as failed with its reason, and Close as drained, before the
// auditor ends.
func TestAuditLifecycle(t *testing.T) {
	dir := t.TempDir()
	tr, err := tracking.Open(context.Background(), t.TempDir(), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			st.Close()
		}
	})
	audited := make(chan struct{})
	go func() {
		defer close(audited)
		ops.AuditLifecycle(context.Background(), st.Subscribe(ops.LifecycleBuffer), tr, slog.New(slog.DiscardHandler))
	}()
	var wakes atomic.Int64
	woken := make(chan struct{})
	go func() {
		defer close(woken)
		ops.WakeOnLifecycle(context.Background(), st.Subscribe(ops.LifecycleBuffer), func() { wakes.Add(1) })
	}()

	testenv.Publish(t, dir, "fraud", onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model())
	if err := st.Load(context.Background(), "fraud"); err != nil {
		t.Fatal(err)
	}
	bad := onnx.RandomMLP(2, onnx.ActivationNone, 3, 2).Model().Marshal()
	wrong := strings.Repeat("ab", 32)
	testenv.PlaceVersion(t, dir, "fraud", 2, bad, fmt.Sprintf(`{"sha256": %q}`, wrong))
	if err := st.Load(context.Background(), "fraud"); err != nil {
		t.Fatal(err)
	}
	if s := st.Model("fraud").Version(2).State(); s != modelstore.Failed {
		t.Fatalf("version 2 is %s; want FAILED", s)
	}
	st.Close()
	closed = true
	<-audited // the subscription closed after the shutdown's events
	<-woken
	if n := wakes.Load(); n < 2 {
		t.Errorf("WakeOnLifecycle woke %d times; want at least 2 (1 ready, 2 failed)", n)
	}

	entries, err := tr.AuditLog(context.Background(), tracking.AuditQuery{Model: "fraud"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range slices.Backward(entries) { // oldest first
		got = append(got, fmt.Sprintf("%s %s %v %s>%s", e.Actor, e.Action, e.Versions, e.Details["from"], e.Details["to"]))
		switch e.Action {
		case "failed":
			if !strings.Contains(e.Reason, modelstore.ErrChecksum.Error()) || !strings.Contains(e.Reason, wrong) {
				t.Errorf("failed entry reason %q; want the checksum mismatch", e.Reason)
			}
		case "drained":
			if !strings.Contains(e.Reason, "shutting down") {
				t.Errorf("drained entry reason %q; want the shutdown", e.Reason)
			}
			if _, ok := e.Details["drain_seconds"]; !ok {
				t.Errorf("drained entry details %v lack drain_seconds", e.Details)
			}
		}
	}
	want := []string{
		"lifecycle loaded [1] GATING>READY",
		"lifecycle failed [2] LOADING>FAILED",
		"lifecycle drained [1] DRAINING>UNLOADED",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
