package modelstore_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// TestOnPublishLatest: on_publish latest, written out or left to its
// default, is today's behaviour: the newest version that passes its gate
// serves, and switchyard writes no rollout.json.
func TestOnPublishLatest(t *testing.T) {
	f := func(policy string) {
		t.Helper()
		dir := t.TempDir()
		if policy != "" {
			writePolicy(t, dir, "m", policy)
		}
		testenv.Publish(t, dir, "m", small(1))
		st := openWatching(t, modelstore.Config{Dir: dir})
		if got := serving(st, "m"); got != 1 {
			t.Fatalf("policy %q: serving %d (%s); want 1", policy, got, states(st, "m"))
		}
		if p := st.Model("m").Policy.OnPublish; p != rollout.Latest {
			t.Fatalf("policy %q: on_publish in force %q; want %q", policy, p, rollout.Latest)
		}
		ev := subscribe(t, st)
		testenv.Publish(t, dir, "m", small(2))
		ev.await(t, "m/2 ready", to("m", 2, modelstore.Ready))
		if err := st.Rescan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := serving(st, "m"); got != 2 {
			t.Fatalf("policy %q: after publishing version 2, serving %d; want 2", policy, got)
		}
		if got, err := rollout.ReadState(filepath.Join(dir, "m")); got != nil || err != nil {
			t.Fatalf("policy %q: rollout.json = %+v, %v; want none written", policy, got, err)
		}
	}
	f("")
	f("rollout:\n  on_publish: latest\n")
}

// TestOnPublishManual: under on_publish manual a model's first version
// serves (nothing serves to protect) and is pinned in rollout.json; a
// newer version loads and is gated but takes no traffic, also across a
// restart, until a person promotes it.
func TestOnPublishManual(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, "m", "rollout:\n  on_publish: manual\n")
	testenv.Publish(t, dir, "m", small(1))
	st := openWatching(t, modelstore.Config{Dir: dir})
	if got := serving(st, "m"); got != 1 {
		t.Fatalf("the first version: serving %d (%s); want 1", got, states(st, "m"))
	}
	pin, err := rollout.ReadState(filepath.Join(dir, "m"))
	if err != nil || pin == nil || pin.Stable != 1 || pin.Candidate != 0 || pin.Strategy != rollout.Manual || pin.Actor != "reconciler" ||
		!strings.Contains(pin.Reason, "manual") {
		t.Fatalf("rollout.json = %+v, %v; want version 1 pinned by the reconciler", pin, err)
	}

	ev := subscribe(t, st)
	testenv.Publish(t, dir, "m", small(2))
	ev.await(t, "m/2 ready", to("m", 2, modelstore.Ready))
	if err := st.Rescan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, share := serving(st, "m"), candidateShare(st, "m", 2); got != 1 || share != 0 {
		t.Fatalf("after publishing version 2: serving %d, version 2 at %d bp; want 1 and 0", got, share)
	}
	if got := states(st, "m"); got != "1:READY 2:READY" {
		t.Fatalf("after publishing version 2: %s; want both loaded, 2 ready to promote", got)
	}

	st.Close()
	st = openWatching(t, modelstore.Config{Dir: dir})
	if got := serving(st, "m"); got != 1 {
		t.Fatalf("after a restart, serving %d; want 1 still", got)
	}

	_, err = st.Desire(context.Background(), "m", func(cur *rollout.State, serving, _ int) (*rollout.State, error) {
		return rollout.PlanPromote(cur, serving, 2, rollout.Manual, 0, rollout.Change{Actor: "ana", Reason: "reviewed", Now: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := serving(st, "m"); got != 2 {
		t.Fatalf("after the promote, serving %d; want 2", got)
	}
}

// TestOnPublishManualAtStart: a model under manual that a server finds
// with several versions and no rollout.json (nothing serves yet) serves
// its newest ready version, as before manual held anything, and pins it.
func TestOnPublishManualAtStart(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, "m", "rollout:\n  on_publish: manual\n")
	testenv.Publish(t, dir, "m", small(1))
	testenv.Publish(t, dir, "m", small(2))
	st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := serving(st, "m"); got != 2 {
		t.Fatalf("serving %d (%s); want 2", got, states(st, "m"))
	}
	if pin, err := rollout.ReadState(filepath.Join(dir, "m")); err != nil || pin == nil || pin.Stable != 2 {
		t.Fatalf("rollout.json = %+v, %v; want version 2 pinned", pin, err)
	}
}
