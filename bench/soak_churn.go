package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// The churn's rhythm: every soakFailEvery-th version is a reseeded model,
// which its gate should fail; soakPoll is how often the churn reads the
// small model's status while it waits, seldom enough to cost the server
// nothing beside the traffic.
const (
	soakFailEvery = 4
	soakPoll      = 100 * time.Millisecond
)

// SoakLifecycle is what the churn did to the small model during Soak. It
// is a plain value.
type SoakLifecycle struct {
	// Published counts the versions published; GatesPassed and
	// GatesFailed how their gates judged them.
	Published   int `json:"published"`
	GatesPassed int `json:"gates_passed"`
	GatesFailed int `json:"gates_failed"`
	// CanarySteps counts the candidate weights below the full one seen.
	CanarySteps int `json:"canary_steps"`
	// Promoted counts the candidates the controller made stable;
	// RolledBack those it rolled back.
	Promoted   int `json:"promoted"`
	RolledBack int `json:"rolled_back"`
	// Swaps counts the rollbacks the churn asked for through the
	// operations API after a promote: instant swaps to the version below.
	Swaps int `json:"swaps"`
	// Stuck counts the rollouts that had not ended within CycleTimeout
	// (or paused as inconclusive), which the churn then rolled back.
	Stuck int `json:"stuck"`
	// Events lists what happened, in order.
	Events []SoakEvent `json:"events"`
}

// SoakEvent is one step of the lifecycle during Soak.
type SoakEvent struct {
	// At is the time since the traffic began, in seconds.
	At float64 `json:"at_s"`
	// Version is the version of the small model it concerns.
	Version int `json:"version"`
	// What says what happened.
	What string `json:"what"`
}

// soakModel is the part of GET /admin/models/{m} the churn reads.
type soakModel struct {
	adminModel
	Rollout *rollout.State `json:"rollout"`
}

// soakChurn publishes, gates, rolls out and swaps versions of the small
// model, one cycle after another. life is its goroutine's alone until run
// returns; published may be read meanwhile.
type soakChurn struct {
	cfg       *SoakConfig
	adm       *adminClient
	life      SoakLifecycle
	published atomic.Int64
}

// run runs cycles, CycleGap apart, until ctx is done. An error means the
// churn could not go on: a publish that failed, a version its gate did
// not judge within CycleTimeout, a server that did not answer.
func (c *soakChurn) run(ctx context.Context, r *soakRun) error {
	for n := 1; ; n++ {
		if err := c.cycle(ctx, r, n); err != nil {
			if ctx.Err() != nil {
				return nil // the run ended during the cycle
			}
			return fmt.Errorf("bench: soak: cycle %d: %w", n, err)
		}
		if !pause(ctx, c.cfg.CycleGap) {
			return nil
		}
	}
}

// cycle publishes a new version and waits for its gate; if the gate
// passes it, it waits for the canary to end and, after every other
// promote, swaps back to the version below.
func (c *soakChurn) cycle(ctx context.Context, r *soakRun, n int) error {
	m, what := r.st.small.mlp, "published"
	if n%soakFailEvery == 0 {
		m, what = reseed(m, uint64(100+n)), "published (reseeded: its gate should fail it)"
	}
	v, err := r.st.publish(r.registry, m, modelstore.PublishOptions{EvalCSV: soakEvalSet(r.st), EvalLabel: "label"})
	if err != nil {
		return err
	}
	c.life.Published++
	c.published.Add(1)
	c.event(r, v, what)
	gated := judged(v)
	st, ok, err := c.watch(ctx, func(m *soakModel) bool { return gated(&m.adminModel) })
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("version %d not judged within %v", v, c.cfg.CycleTimeout)
	}
	if st.version(v).State != modelstore.Ready.String() {
		c.life.GatesFailed++
		c.event(r, v, "gate failed")
		return nil
	}
	c.life.GatesPassed++
	c.event(r, v, "gate passed")
	return c.rollout(ctx, r, v)
}

// rollout waits for the canary of version v to end, counting its steps,
// and swaps back after every other promote.
func (c *soakChurn) rollout(ctx context.Context, r *soakRun, v int) error {
	started, bp := false, 0
	st, ok, err := c.watch(ctx, func(m *soakModel) bool {
		rs := m.Rollout
		started = started || rs != nil && rs.Candidate == v
		if mv := m.version(v); mv != nil && mv.TrafficBP != bp {
			bp = mv.TrafficBP
			if bp > 0 && bp < rollout.FullWeight {
				c.life.CanarySteps++
				c.event(r, v, fmt.Sprintf("canary at %d bp", bp))
			}
		}
		return rs != nil && rs.Paused || m.ServingVersion == v && (rs == nil || rs.Candidate == 0) ||
			started && rs != nil && rs.Candidate == 0
	})
	switch {
	case err != nil:
		return err
	case !ok || st.Rollout != nil && st.Rollout.Paused:
		c.life.Stuck++
		c.event(r, v, fmt.Sprintf("rollout not over within %v, or paused: rolled back by the soak", c.cfg.CycleTimeout))
		return c.adm.action("rollback", map[string]any{"reason": "bench: soak: stuck rollout"})
	case st.ServingVersion != v:
		c.life.RolledBack++
		c.event(r, v, "rolled back by the controller: "+st.Rollout.Reason)
		return nil
	}
	c.life.Promoted++
	c.event(r, v, "promoted")
	if c.life.Promoted%2 == 1 {
		return nil
	}
	if err := c.adm.action("rollback", map[string]any{"reason": "bench: soak: swap"}); err != nil {
		return err
	}
	st, ok, err = c.watch(ctx, func(m *soakModel) bool { return m.ServingVersion != v && m.ServingVersion > 0 })
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("version %d still serves %v after its rollback", v, c.cfg.CycleTimeout)
	}
	c.life.Swaps++
	c.event(r, st.ServingVersion, fmt.Sprintf("serves again: swapped back from version %d", v))
	return nil
}

// watch reads the small model's status every soakPoll until done holds
// and returns the status that made it hold; ok is false when CycleTimeout
// passed first.
func (c *soakChurn) watch(ctx context.Context, done func(*soakModel) bool) (m *soakModel, ok bool, err error) {
	deadline := time.Now().Add(c.cfg.CycleTimeout)
	for {
		if _, err := c.adm.model(); err != nil {
			return nil, false, err
		}
		m = new(soakModel)
		if err := json.Unmarshal(c.adm.resp.Body(), m); err != nil { // the answer adm.model read
			return nil, false, fmt.Errorf("GET %s: %w", c.adm.base, err)
		}
		if done(m) {
			return m, true, nil
		}
		if time.Now().After(deadline) {
			return m, false, nil
		}
		if !pause(ctx, soakPoll) {
			return m, false, ctx.Err()
		}
	}
}

// event records what happened to version v now.
func (c *soakChurn) event(r *soakRun, v int, what string) {
	c.life.Events = append(c.life.Events, SoakEvent{At: r.since(time.Now()), Version: v, What: what})
}

// pause waits for d and reports true, or false if ctx is done first.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// appendPolicy appends text to the small model's policy.yaml in
// registry.
func appendPolicy(registry, text string) error {
	f, err := os.OpenFile(filepath.Join(registry, SmallModel, modelstore.PolicyFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("bench: soak: %w", err)
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bench: soak: %w", err)
	}
	return nil
}
