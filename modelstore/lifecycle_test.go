package modelstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// waitLimit bounds every wait for the reconciler in these tests; it is a
// bound against hangs, not a measure of speed.
const waitLimit = 30 * time.Second

// openWatching opens a store that reacts to the registry quickly.
func openWatching(t *testing.T, cfg modelstore.Config) *modelstore.Store {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Debounce = 5 * time.Millisecond
	st, err := modelstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// events collects a subscription's events as the test waits for them.
type events struct {
	sub  *modelstore.Subscription
	seen []modelstore.Event
}

func subscribe(t *testing.T, st *modelstore.Store) *events {
	sub := st.Subscribe(1024)
	t.Cleanup(sub.Close)
	return &events{sub: sub}
}

// await returns the first event, after those already seen, for which ok
// holds.
func (e *events) await(t *testing.T, what string, ok func(modelstore.Event) bool) modelstore.Event {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		select {
		case ev := <-e.sub.C:
			e.seen = append(e.seen, ev)
			if ok(ev) {
				return ev
			}
		case <-timer.C:
			t.Fatalf("no event %s within %v; saw %v", what, waitLimit, e.seen)
		}
	}
}

// awaitAll waits until every matcher in want has matched some event after
// those already seen, in whatever order the store emits them.
func (e *events) awaitAll(t *testing.T, what string, want ...func(modelstore.Event) bool) {
	t.Helper()
	left := len(want)
	matched := make([]bool, len(want))
	e.await(t, what, func(ev modelstore.Event) bool {
		for i, ok := range want {
			if !matched[i] && ok(ev) {
				matched[i] = true
				left--
			}
		}
		return left == 0
	})
}

// to matches version n of model entering state s.
func to(model string, n int, s modelstore.State) func(modelstore.Event) bool {
	return func(e modelstore.Event) bool { return e.Model == model && e.Version == n && e.To == s }
}

// serving returns the number of the version routed for model, or 0.
func serving(st *modelstore.Store, model string) int {
	if v, ok := st.Table().Route(model).Pick(); ok {
		return v.Number
	}
	return 0
}

// states returns the state of each version of model, in order, as text.
func states(st *modelstore.Store, model string) string {
	var b strings.Builder
	for _, v := range st.Model(model).Versions {
		fmt.Fprintf(&b, "%d:%s ", v.Number, v.State())
	}
	return strings.TrimSpace(b.String())
}

// TestOnlyWhatServesStaysLoaded publishes many versions and checks that
// only the stable one and keep_previous below it hold sessions, and that
// each new version takes over while the one beyond keep_previous drains.
func TestOnlyWhatServesStaysLoaded(t *testing.T) {
	dir := t.TempDir()
	for i := range 5 {
		testenv.Publish(t, dir, "m", small(uint64(i)))
	}
	st := openWatching(t, modelstore.Config{Dir: dir})
	if got, want := states(st, "m"), "1:UNLOADED 2:UNLOADED 3:UNLOADED 4:READY 5:READY"; got != want {
		t.Fatalf("after Open: %s; want %s", got, want)
	}
	if n := serving(st, "m"); n != 5 {
		t.Fatalf("serving %d; want 5", n)
	}
	v5 := st.Model("m").Version(5)
	var v6 weak.Pointer[modelstore.Version]
	ev := subscribe(t, st)
	for n := 6; n <= 8; n++ {
		testenv.Publish(t, dir, "m", small(uint64(n)))
		for _, s := range []modelstore.State{modelstore.Loading, modelstore.Gating, modelstore.Ready} {
			ev.await(t, fmt.Sprintf("%d to %s", n, s), to("m", n, s))
		}
		if n == 6 {
			v6 = weak.Make(st.Model("m").Version(6))
		}
		drained := ev.await(t, fmt.Sprintf("%d draining", n-2), to("m", n-2, modelstore.Draining))
		if want := fmt.Sprintf("replaced by version %d; beyond keep_previous (1)", n); drained.Reason != want {
			t.Errorf("drain reason %q; want %q", drained.Reason, want)
		}
		ev.await(t, fmt.Sprintf("%d unloaded", n-2), to("m", n-2, modelstore.Unloaded))
		if s := serving(st, "m"); s != n {
			t.Fatalf("after version %d became ready, %d serves", n, s)
		}
	}
	if got, want := states(st, "m"), "1:UNLOADED 2:UNLOADED 3:UNLOADED 4:UNLOADED 5:UNLOADED 6:UNLOADED 7:READY 8:READY"; got != want {
		t.Fatalf("after three publishes: %s; want %s", got, want)
	}
	// An unloaded version, with its queue and bindings, is garbage once
	// nothing outside the store holds it: publishing many versions does
	// not grow the heap.
	runtime.GC()
	runtime.GC()
	if v6.Value() != nil {
		t.Fatal("the store still holds the unloaded version 6")
	}
	if v5.State() != modelstore.Unloaded {
		t.Fatalf("the old version 5 is %s; want its session closed", v5.State())
	}
	if err := v5.Run([]engine.Tensor{engine.NewTensor("input", []int64{1, 3}, []float32{1, 2, 3})}, make([]engine.Tensor, 1)); !errors.Is(err, modelstore.ErrNotReady) {
		t.Fatalf("Run on an unloaded version = %v; want ErrNotReady", err)
	}
}

// TestFailedVersionInferIsAnError checks that a Failed version, which has
// no session, refuses requests instead of dereferencing nil.
func TestFailedVersionInferIsAnError(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", small(1))
	testenv.PlaceVersion(t, dir, "m", 2, []byte("not onnx"), testenv.Manifest([]byte("not onnx")))
	st := openStore(t, dir)
	v := st.Model("m").Version(2)
	if v.State() != modelstore.Failed {
		t.Fatalf("version 2 is %s; want FAILED", v.State())
	}
	r := &modelstore.Request{In: []engine.Tensor{engine.NewTensor("input", []int64{1, 3}, []float32{1, 2, 3})}}
	if err := v.Infer(r); !errors.Is(err, modelstore.ErrNotReady) {
		t.Fatalf("Infer on a failed version = %v; want ErrNotReady", err)
	}
	if v.Acquire() {
		t.Fatal("a failed version was acquired")
	}
}

// TestDeletingVersions deletes a kept version, then the serving one.
func TestDeletingVersions(t *testing.T) {
	dir := t.TempDir()
	for i := range 3 {
		testenv.Publish(t, dir, "m", small(uint64(i)))
	}
	st := openWatching(t, modelstore.Config{Dir: dir})
	ev := subscribe(t, st)
	if err := os.RemoveAll(filepath.Join(dir, "m", "2")); err != nil {
		t.Fatal(err)
	}
	e := ev.await(t, "2 draining", to("m", 2, modelstore.Draining))
	if !strings.Contains(e.Reason, "removed from the registry") {
		t.Errorf("reason %q does not say the directory was removed", e.Reason)
	}
	ev.awaitAll(t, "2 unloaded and 1 ready as the new previous",
		to("m", 2, modelstore.Unloaded), to("m", 1, modelstore.Ready))
	if got, want := states(st, "m"), "1:READY 3:READY"; got != want {
		t.Fatalf("after deleting 2: %s; want %s", got, want)
	}
	if err := os.RemoveAll(filepath.Join(dir, "m", "3")); err != nil {
		t.Fatal(err)
	}
	e = ev.await(t, "3 draining", to("m", 3, modelstore.Draining))
	if want := "version directory removed from the registry; version 1 serves"; e.Reason != want {
		t.Errorf("reason %q; want %q", e.Reason, want)
	}
	if n := serving(st, "m"); n != 1 {
		t.Fatalf("after deleting the serving version, %d serves; want 1", n)
	}
	ev.await(t, "3 unloaded", to("m", 3, modelstore.Unloaded))
	if got, want := states(st, "m"), "1:READY"; got != want {
		t.Fatalf("after deleting 3: %s; want %s", got, want)
	}
}

// TestBrokenPublishesAreNotRetried places a version whose manifest's hash
// is wrong and one onnxruntime refuses: each fails once, with a reason,
// and is not loaded again at the next rescans.
func TestBrokenPublishesAreNotRetried(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", small(1))
	st := openWatching(t, modelstore.Config{Dir: dir, RescanInterval: 10 * time.Millisecond})
	ev := subscribe(t, st)
	good := small(2).Marshal()
	wrong := strings.Repeat("ab", 32)
	testenv.PlaceVersion(t, dir, "m", 2, good, fmt.Sprintf(`{"sha256": %q}`, wrong))
	e := ev.await(t, "2 failed", to("m", 2, modelstore.Failed))
	if got := sha256.Sum256(good); !strings.Contains(e.Reason, hex.EncodeToString(got[:])) || !strings.Contains(e.Reason, wrong) {
		t.Errorf("reason %q does not give both hashes", e.Reason)
	}
	testenv.PlaceVersion(t, dir, "m", 3, []byte("garbage"), testenv.Manifest([]byte("garbage")))
	ev.await(t, "3 failed", to("m", 3, modelstore.Failed))
	// Let several rescans pass, then count the attempts.
	for range 3 {
		if err := st.Rescan(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // a few periodic rescans too
	if err := st.Rescan(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev.sub.Close()
	for e := range ev.sub.C {
		ev.seen = append(ev.seen, e)
	}
	loads := map[int]int{}
	for _, e := range ev.seen {
		if e.To == modelstore.Loading {
			loads[e.Version]++
		}
	}
	if loads[2] != 1 || loads[3] != 1 {
		t.Fatalf("load attempts %v; want one each for 2 and 3 (events %v)", loads, ev.seen)
	}
	if n := serving(st, "m"); n != 1 {
		t.Fatalf("%d serves; want 1", n)
	}
}

// TestIgnoredDirectories checks that only complete versions with positive
// integer names, in model directories with valid names, are seen.
func TestIgnoredDirectories(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", small(1))
	model := small(2).Marshal()
	manifest := testenv.Manifest(model)
	for _, name := range []string{".publish-123", "01", "0", "-1", "abc", "2.5"} {
		p := filepath.Join(dir, "m", name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(p, modelstore.ModelFile), model, 0o644)
		os.WriteFile(filepath.Join(p, modelstore.ManifestFile), []byte(manifest), 0o644)
	}
	if err := os.MkdirAll(filepath.Join(dir, "m", "5"), 0o755); err != nil { // no manifest
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "m", "6"), []byte("a file"), 0o644)
	for _, name := range []string{".switchyard", "bad name"} {
		placeDir := filepath.Join(dir, name, "1")
		if err := os.MkdirAll(placeDir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(placeDir, modelstore.ModelFile), model, 0o644)
		os.WriteFile(filepath.Join(placeDir, modelstore.ManifestFile), []byte(manifest), 0o644)
	}
	st := openWatching(t, modelstore.Config{Dir: dir})
	if got := states(st, "m"); got != "1:READY" {
		t.Fatalf("model m: %s; want only version 1", got)
	}
	if ms := st.Models(); len(ms) != 1 {
		t.Fatalf("%d models; want only m", len(ms))
	}
}

// TestPolicyEditsApplyWithoutRestart edits policy.yaml under a running
// store: a valid edit applies (per-request settings at once, batching to
// versions loaded afterwards), an invalid one is refused and logged, and
// the last good policy stays.
func TestPolicyEditsApplyWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", small(1))
	testenv.Publish(t, dir, "m", small(2))
	var log syncBuffer
	st := openWatching(t, modelstore.Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	ev := subscribe(t, st)
	v2 := st.Model("m").Version(2)
	policy := filepath.Join(dir, "m", modelstore.PolicyFile)
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(policy, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	until := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(waitLimit); !ok(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not happen within %v; log:\n%s", what, waitLimit, log.String())
			}
		}
	}
	write("batching:\n  timeout: 150ms\n  max_batch_size: 8\n")
	until("the timeout edit", func() bool { return v2.DefaultTimeout() == 150*time.Millisecond })
	if v2.Batching.MaxBatchSize != 64 {
		t.Fatalf("a loaded version's batching changed to %d", v2.Batching.MaxBatchSize)
	}
	write("batching:\n  timeout: 2s\n  max_batch_sise: 8\n")
	until("the refusal", func() bool { return strings.Contains(log.String(), "max_batch_sise") })
	if !strings.Contains(log.String(), "last good policy stays in force") {
		t.Fatalf("the refusal does not say what stays in force:\n%s", log.String())
	}
	if d := v2.DefaultTimeout(); d != 150*time.Millisecond {
		t.Fatalf("after an invalid edit the timeout is %v; want the last good 150ms", d)
	}
	write("batching:\n  max_batch_size: 8\nrollout:\n  keep_previous: 0\n")
	ev.await(t, "1 draining after keep_previous: 0", to("m", 1, modelstore.Draining))
	testenv.Publish(t, dir, "m", small(3))
	ev.await(t, "3 ready", to("m", 3, modelstore.Ready))
	if v3 := st.Model("m").Version(3); v3.Batching.MaxBatchSize != 8 || v3.DefaultTimeout() != 0 {
		t.Fatalf("version 3 loaded after the edit: max_batch_size %d, timeout %v; want 8 and none", v3.Batching.MaxBatchSize, v3.DefaultTimeout())
	}
	ev.await(t, "2 draining with keep_previous 0", to("m", 2, modelstore.Draining))
}

// TestMemoryBudget checks that a version that would not fit fails with the
// numbers, and that what serves keeps serving.
func TestMemoryBudget(t *testing.T) {
	dir := t.TempDir()
	first := onnx.RandomMLP(1, onnx.ActivationNone, 64, 1024, 512, 2).Model().Marshal()
	bigger := onnx.RandomMLP(2, onnx.ActivationNone, 64, 1024, 1024, 2).Model().Marshal()
	if _, err := modelstore.Publish(dir, "m", first, modelstore.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	// The first version fits its estimate (twice its file); the second
	// cannot, whatever the first turns out to cost.
	budget := int64(2*len(first)) + 1<<20
	st := openWatching(t, modelstore.Config{Dir: dir, MemoryBudget: budget})
	if n := serving(st, "m"); n != 1 {
		t.Fatalf("%d serves; want 1 (%s)", n, states(st, "m"))
	}
	if c := st.Model("m").Version(1).Cost; c < int64(len(first)) {
		t.Fatalf("version 1 cost %d bytes; want at least its file, %d", c, len(first))
	}
	ev := subscribe(t, st)
	if _, err := modelstore.Publish(dir, "m", bigger, modelstore.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	e := ev.await(t, "2 failed", to("m", 2, modelstore.Failed))
	if !strings.Contains(e.Reason, "memory budget: loading needs about") || !strings.Contains(e.Reason, "MiB budget") {
		t.Fatalf("reason %q does not give the numbers", e.Reason)
	}
	if n := serving(st, "m"); n != 1 {
		t.Fatalf("after the refused version, %d serves; want 1", n)
	}
}

// TestRestartServesTheSameVersion reopens a registry whose newest version
// is broken: the same good version serves before and after.
func TestRestartServesTheSameVersion(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", small(1))
	testenv.Publish(t, dir, "m", small(2))
	testenv.PlaceVersion(t, dir, "m", 3, []byte("garbage"), testenv.Manifest([]byte("garbage")))
	for i := range 2 {
		st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		got, state := serving(st, "m"), states(st, "m")
		st.Close()
		if got != 2 || state != "1:READY 2:READY 3:FAILED" {
			t.Fatalf("start %d: %d serves, %s; want 2 serving, 1 kept, 3 failed", i+1, got, state)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestWeightGauge checks that switchyard_traffic_weight_bp follows the
// route: all on the newest version, then split as rollout.json says.
func TestWeightGauge(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", small(1))
	testenv.Publish(t, dir, "m", small(2))
	reg := prometheus.NewPedanticRegistry()
	metrics, err := modelstore.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	st := openWatching(t, modelstore.Config{Dir: dir, Metrics: metrics})
	weights := func() string {
		t.Helper()
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range families {
			if f.GetName() != "switchyard_traffic_weight_bp" {
				continue
			}
			for _, m := range f.GetMetric() {
				out = append(out, fmt.Sprintf("%s=%v", m.GetLabel()[1].GetValue(), m.GetGauge().GetValue()))
			}
		}
		return strings.Join(out, " ")
	}
	if got := weights(); got != "2=10000" {
		t.Fatalf("weights = %q; want 2=10000", got)
	}
	if err := rollout.WriteState(filepath.Join(dir, "m"), &rollout.State{Stable: 1, Candidate: 2, Strategy: rollout.Canary, Weight: 2500,
		UpdatedAt: time.Now(), Actor: "test", Reason: "split"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Rescan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := weights(); got != "1=7500 2=2500" {
		t.Fatalf("weights = %q; want 1=7500 2=2500", got)
	}
}
