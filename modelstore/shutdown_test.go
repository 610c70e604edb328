package modelstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// TestCloseDrainsThroughTheReconciler checks that the transitions of a
// shutdown are events like any other: a subscriber sees every loaded
// version go Draining, then Unloaded, before its channel closes.
func TestCloseDrainsThroughTheReconciler(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "a", small(1))
	testenv.Publish(t, dir, "a", small(2)) // 1 stays loaded for rollback
	testenv.Publish(t, dir, "b", small(3))
	st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var loaded []*modelstore.Version
	for _, m := range st.Models() {
		for _, v := range m.Versions {
			if v.State() == modelstore.Ready {
				loaded = append(loaded, v)
			}
		}
	}
	if len(loaded) != 3 {
		t.Fatalf("%d ready versions before Close; want 3 (a/1, a/2, b/1)", len(loaded))
	}
	sub := st.Subscribe(64)
	st.Close()
	var got []string
	for e := range sub.C { // closed by Close, after the last event
		got = append(got, fmt.Sprintf("%s/%d %s>%s", e.Model, e.Version, e.From, e.To))
		if e.Reason == "" {
			t.Errorf("event %s/%d %s>%s has no reason", e.Model, e.Version, e.From, e.To)
		}
	}
	for _, v := range loaded {
		draining := fmt.Sprintf("%s/%d READY>DRAINING", v.Model, v.Number)
		unloaded := fmt.Sprintf("%s/%d DRAINING>UNLOADED", v.Model, v.Number)
		i, j := slices.Index(got, draining), slices.Index(got, unloaded)
		if i < 0 || j < i {
			t.Errorf("events %v; want %q then %q", got, draining, unloaded)
		}
		if s := v.State(); s != modelstore.Unloaded {
			t.Errorf("%s/%d is %s after Close; want UNLOADED", v.Model, v.Number, s)
		}
	}
	if n := sub.Dropped(); n != 0 {
		t.Errorf("%d events dropped", n)
	}
}
