package modelstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// change is one entry a ChangeAuditor received.
type change struct {
	model, action, reason string
	versions              []int
	details               map[string]any
}

// changes records what the reconciler audits on its own.
type changes struct {
	mu      sync.Mutex
	entries []change
}

func (c *changes) AuditRefusal(context.Context, string, string) error { return nil }

func (c *changes) AuditChange(_ context.Context, model, action string, versions []int, reason string, details map[string]any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append(c.entries, change{model: model, action: action, reason: reason, versions: versions, details: details})
	return nil
}

// await returns the first entry with action, waiting for it.
func (c *changes) await(t *testing.T, action string) change {
	t.Helper()
	var got change
	until(t, "an audit entry "+action, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, e := range c.entries {
			if e.action == action {
				got = e
				return true
			}
		}
		return false
	})
	return got
}

// hashOf is the hash the audit names a policy.yaml by.
func hashOf(policy string) string {
	sum := sha256.Sum256([]byte(policy))
	return hex.EncodeToString(sum[:6])
}

// rejudgeRegistry publishes a good version 1 and a worse version 2 of m,
// both with an eval set and no policy.yaml, and pins st in rollout.json.
func rejudgeRegistry(t *testing.T, st *rollout.State) string {
	t.Helper()
	dir := t.TempDir()
	eval := evalCSV(300)
	publishJudged(t, dir, "m", goodWeights, eval)
	publishJudged(t, dir, "m", worseWeights, eval)
	writeState(t, dir, "m", st)
	return dir
}

// editPolicy writes model's policy.yaml and waits until the store has
// reconciled it, re-judging included.
func editPolicy(t *testing.T, st *modelstore.Store, dir, model, policy string) {
	t.Helper()
	writePolicy(t, dir, model, policy)
	if err := st.Rescan(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyAddedRejudges: a policy.yaml added while version 1 serves and
// version 2 waits, ready, judges both again under its gate block: version
// 2, worse than 1, now fails and leaves memory; version 1 passes on its
// own; the audit names both policies and both versions.
func TestPolicyAddedRejudges(t *testing.T) {
	dir := rejudgeRegistry(t, &rollout.State{Stable: 1, Strategy: rollout.Manual, UpdatedAt: time.Now(), Actor: "ana", Reason: "pin"})
	rec, audits := &verdicts{}, &changes{}
	st := openWatching(t, modelstore.Config{Dir: dir, Verdicts: rec, Auditor: audits})
	if got := states(st, "m"); got != "1:READY 2:READY" {
		t.Fatalf("without a gate block: %s; want both ready", got)
	}
	if v := rec.of("m", 2); v == nil || !v.Pass {
		t.Fatalf("verdict on version 2 without a gate block = %+v; want a pass", v)
	}

	editPolicy(t, st, dir, "m", regressionPolicy)
	if got, s := states(st, "m"), serving(st, "m"); got != "1:READY 2:FAILED" || s != 1 {
		t.Fatalf("after policy.yaml came: %s, serving %d; want 1:READY 2:FAILED, serving 1", got, s)
	}
	v2 := st.Model("m").Versions[1]
	if !strings.HasPrefix(v2.Reason(), "gate: ") || !strings.Contains(v2.Reason(), "auc of version 2") {
		t.Errorf("version 2's reason %q: want the new gate's", v2.Reason())
	}
	if v := rec.of("m", 2); v == nil || v.Pass || v.Stable != "version 1" {
		t.Fatalf("verdict on version 2 = %+v; want a failure against version 1", v)
	}
	if v := rec.of("m", 1); v == nil || !v.Pass || v.Stable != "" {
		t.Fatalf("verdict on version 1 = %+v; want a pass judged on its own", v)
	}
	e := audits.await(t, modelstore.ActionPolicyChanged)
	if !slices.Equal(e.versions, []int{1, 2}) || e.details["old_policy"] != "none" || e.details["new_policy"] != hashOf(regressionPolicy) ||
		e.details["gate_changed"] != true || !strings.Contains(e.reason, "versions 1 and 2 are judged again") {
		t.Fatalf("audit = %+v; want policy_changed, none -> %s, versions 1 and 2 judged again", e, hashOf(regressionPolicy))
	}
	// Promoting version 2 is refused now, as after any failed gate.
	_, err := st.Desire(context.Background(), "m", func(cur *rollout.State, serving, _ int) (*rollout.State, error) {
		return rollout.PlanPromote(cur, serving, 2, rollout.Manual, 0, rollout.Change{Actor: "ana", Reason: "try", Now: time.Now()})
	})
	if err == nil {
		t.Fatal("promoting version 2 after it failed the new gate succeeded; want a refusal")
	}
}

// TestPolicyChangeKeepsServing: the version that serves, failing the gate
// of a changed policy.yaml, serves on: its verdict and reason say it fails,
// and the audit says so.
func TestPolicyChangeKeepsServing(t *testing.T) {
	dir := t.TempDir()
	publishJudged(t, dir, "m", goodWeights, evalCSV(300))
	rec, audits := &verdicts{}, &changes{}
	st := openWatching(t, modelstore.Config{Dir: dir, Verdicts: rec, Auditor: audits})
	if got := serving(st, "m"); got != 1 {
		t.Fatalf("serving %d; want 1", got)
	}
	const strict = "gate:\n  metrics:\n    auc: {min: 0.9999}\n"
	editPolicy(t, st, dir, "m", strict)
	v := st.Model("m").Versions[0]
	if got := serving(st, "m"); got != 1 || v.State() != modelstore.Ready {
		t.Fatalf("after a stricter gate: serving %d, version 1 %v; want 1, READY", got, v.State())
	}
	if !strings.Contains(v.Reason(), "serves, though it fails the gate of the changed policy.yaml") {
		t.Errorf("version 1's reason %q: want it to say it serves on despite the gate", v.Reason())
	}
	if got := v.Verdict(); got == nil || got.Pass {
		t.Fatalf("Verdict() = %+v; want the new failure", got)
	}
	if e := audits.await(t, modelstore.ActionGateRejudge); !slices.Equal(e.versions, []int{1}) || !strings.Contains(e.reason, "serves") {
		t.Fatalf("audit = %+v; want gate_rejudge of version 1 saying it serves", e)
	}
	if e := audits.await(t, modelstore.ActionPolicyChanged); e.details["new_policy"] != hashOf(strict) || !slices.Equal(e.versions, []int{1}) {
		t.Fatalf("audit = %+v; want policy_changed naming version 1", e)
	}
}

// TestPolicyChangeRollsBackCanary: a canary whose candidate fails the
// gate of a changed policy.yaml rolls back: stable takes all traffic, and
// rollout.json and the audit say why.
func TestPolicyChangeRollsBackCanary(t *testing.T) {
	dir := rejudgeRegistry(t, &rollout.State{Stable: 1, Candidate: 2, Weight: 2500, Strategy: rollout.Canary, UpdatedAt: time.Now(),
		Actor: "controller", Reason: "version 2 is ready"})
	audits := &changes{}
	st := openWatching(t, modelstore.Config{Dir: dir, Auditor: audits})
	if share := candidateShare(st, "m", 2); share == 0 {
		t.Fatal("version 2 takes no traffic before the policy changes; want its canary share")
	}
	editPolicy(t, st, dir, "m", regressionPolicy)
	if share := candidateShare(st, "m", 2); share != 0 {
		t.Fatalf("after policy.yaml came, version 2 takes %d bp; want 0", share)
	}
	if got := states(st, "m"); got != "1:READY 2:FAILED" {
		t.Fatalf("states %s; want 1:READY 2:FAILED", got)
	}
	disk := diskState(t, dir, "m")
	if disk.Stable != 1 || disk.Candidate != 0 || disk.Actor != "reconciler" || !strings.Contains(disk.Reason, "version 2 failed the gate of the changed policy.yaml") {
		t.Fatalf("rollout.json = %+v; want the canary rolled back by the reconciler", disk)
	}
	if e := audits.await(t, modelstore.ActionGateRollback); !slices.Equal(e.versions, []int{1, 2}) {
		t.Fatalf("audit = %+v; want gate_rollback of versions 1, 2", e)
	}
}

// TestPolicyLoosenedReadmits: a version that failed the gate of the old
// policy.yaml is judged again under a looser one; passing, it serves (on
// the default on_publish, latest).
func TestPolicyLoosenedReadmits(t *testing.T) {
	dir := t.TempDir()
	eval := evalCSV(300)
	writePolicy(t, dir, "m", regressionPolicy)
	publishJudged(t, dir, "m", goodWeights, eval)
	publishJudged(t, dir, "m", worseWeights, eval)
	audits := &changes{}
	st := openWatching(t, modelstore.Config{Dir: dir, Auditor: audits})
	if got := states(st, "m"); got != "1:READY 2:FAILED" {
		t.Fatalf("under the strict gate: %s; want 1:READY 2:FAILED", got)
	}
	if err := os.Remove(filepath.Join(dir, "m", modelstore.PolicyFile)); err != nil {
		t.Fatal(err)
	}
	if err := st.Rescan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, s := states(st, "m"), serving(st, "m"); got != "1:READY 2:READY" || s != 2 {
		t.Fatalf("without the gate: %s, serving %d; want both ready, 2 serving", got, s)
	}
	e := audits.await(t, modelstore.ActionPolicyChanged)
	if e.details["old_policy"] != hashOf(regressionPolicy) || e.details["new_policy"] != "none" ||
		!slices.Equal(e.details["readmitted"].([]int), []int{2}) {
		t.Fatalf("audit = %+v; want policy_changed %s -> none, version 2 readmitted", e, hashOf(regressionPolicy))
	}
}

// TestPolicyChangeWithoutGateJudgesNothing: an edit that leaves the gate
// block as it was judges nothing again, and is audited as such.
func TestPolicyChangeWithoutGateJudgesNothing(t *testing.T) {
	dir := t.TempDir()
	publishJudged(t, dir, "m", goodWeights, evalCSV(300))
	rec, audits := &verdicts{}, &changes{}
	st := openWatching(t, modelstore.Config{Dir: dir, Verdicts: rec, Auditor: audits})
	before := rec.of("m", 1)
	editPolicy(t, st, dir, "m", "batching:\n  timeout: 3s\n")
	e := audits.await(t, modelstore.ActionPolicyChanged)
	if e.details["gate_changed"] != false || len(e.versions) != 0 {
		t.Fatalf("audit = %+v; want no version judged again", e)
	}
	if after := rec.of("m", 1); after != before {
		t.Fatalf("version 1 judged again (%+v) by an edit outside the gate block", after)
	}
}

// heldVerdicts records verdicts, holding the gate of the first verdict on
// version hold until release is closed.
type heldVerdicts struct {
	verdicts
	hold     int
	held     chan struct{} // closed once that gate waits
	release  chan struct{}
	once     sync.Once
	versions []bool // the pass of each verdict on version hold, in order
}

func (h *heldVerdicts) RecordVerdict(ctx context.Context, model string, version int, v *gate.Verdict) error {
	if version == h.hold {
		first := false
		h.once.Do(func() { first = true })
		h.mu.Lock()
		h.versions = append(h.versions, v.Pass)
		h.mu.Unlock()
		if first {
			close(h.held)
			<-h.release
		}
	}
	return h.verdicts.RecordVerdict(ctx, model, version, v)
}

// TestPolicyChangeWhileGating: a verdict made under a gate block that
// changed while the gate ran does not stand: the version is judged again
// under the new block.
func TestPolicyChangeWhileGating(t *testing.T) {
	dir := t.TempDir()
	eval := evalCSV(300)
	publishJudged(t, dir, "m", goodWeights, eval)
	writeState(t, dir, "m", &rollout.State{Stable: 1, Strategy: rollout.Manual, UpdatedAt: time.Now(), Actor: "ana", Reason: "pin"})
	rec := &heldVerdicts{hold: 2, held: make(chan struct{}), release: make(chan struct{})}
	logs := &syncBuffer{}
	st := openWatching(t, modelstore.Config{Dir: dir, Verdicts: rec, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	release := sync.OnceFunc(func() { close(rec.release) })
	t.Cleanup(release) // before the store closes, which waits for the gate
	publishJudged(t, dir, "m", worseWeights, eval)
	select {
	case <-rec.held: // version 2 is judged under no gate block, and waits
	case <-time.After(waitLimit):
		t.Fatal("version 2 was not judged")
	}
	writePolicy(t, dir, "m", regressionPolicy)
	until(t, "the store reading the new gate block", func() bool { return strings.Contains(logs.String(), "its gate block changed") })
	release()
	if err := st.Rescan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := states(st, "m"); got != "1:READY 2:FAILED" {
		t.Fatalf("after the gate block changed during version 2's gate: %s; want 1:READY 2:FAILED", got)
	}
	rec.mu.Lock()
	passes := rec.versions
	rec.mu.Unlock()
	if !slices.Equal(passes, []bool{true, false}) {
		t.Fatalf("verdicts on version 2 passed %v; want a pass under the old block, then a failure under the new", passes)
	}
}
