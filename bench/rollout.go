package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// rolloutSteps returns the canary steps of a rollout cycle, in basis
// points: the policy's default steps, the first being the promote's, the
// others written to rollout.json one after another.
func rolloutSteps() []int { return rollout.DefaultPolicy().Steps }

// maxReadyVersions is the target for the versions ready after the last
// rollout cycle: the stable one, the newest above it and
// modelstore.DefaultKeepPrevious below it.
const maxReadyVersions = 2 + modelstore.DefaultKeepPrevious

// rolloutStepsText writes rolloutSteps as "500, 2500, 5000, 10000".
func rolloutStepsText() string {
	var b []byte
	for i, w := range rolloutSteps() {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(w), 10)
	}
	return string(b)
}

// awaitAnswer probes about every millisecond until version want answers,
// and fails once timeout has passed. Unlike await, which expects versions
// to only grow, it counts as bad only answers that name no version: a
// rollout cycle goes back to older versions on purpose.
func (p *prober) awaitAnswer(ctx context.Context, want int, timeout time.Duration) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(timeout)
	for {
		sent := time.Now()
		err := p.client.Do(p.req, p.resp)
		p.probes.record(sent, time.Now(), p.resp.StatusCode(), err)
		header := p.resp.Header.Peek("X-Model-Version")
		if err == nil && p.resp.StatusCode() == fasthttp.StatusOK {
			switch v, verr := strconv.Atoi(string(header)); {
			case verr != nil:
				p.badVersions++
			case v == want:
				return nil
			}
		}
		if time.Now().After(deadline) {
			last := fmt.Sprintf("status %d, X-Model-Version %q", p.resp.StatusCode(), header)
			if err != nil {
				last = err.Error()
			}
			return fmt.Errorf("version %d did not answer within %v (last probe: %s)", want, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// rolloutCycle takes version v, just published, through a whole rollout
// over the version that serves: it waits until v is ready,
// promotes it as a canary, writes each further step of rolloutSteps to
// rollout.json and waits until the server routes by it, finishes the
// rollout (promote with bluegreen), rolls back to v-1, promotes v with
// bluegreen again and rolls back again, waiting each time until the
// expected version answers. v-1 serves when it returns. Each wait is
// bounded by CycleTimeout.
func (cfg *SwapConfig) rolloutCycle(ctx context.Context, adm *adminClient, pr *prober, modelDir string, v int) error {
	t := cfg.CycleTimeout
	err := adm.await(ctx, t, fmt.Sprintf("version %d ready", v), func(m *adminModel) bool {
		mv := m.version(v)
		return mv != nil && mv.State == "READY"
	})
	if err != nil {
		return err
	}
	if err := adm.action("promote", map[string]any{"version": v, "strategy": rollout.Canary, "reason": "bench: canary"}); err != nil {
		return err
	}
	st, err := rollout.ReadState(modelDir) // written before the promote answered
	if err != nil || st == nil || st.Candidate != v {
		return fmt.Errorf("rollout.json after the canary promote of version %d: %+v, %v", v, st, err)
	}
	for step, w := range rolloutSteps() {
		if step > 0 {
			err := rollout.WriteState(modelDir, &rollout.State{Stable: st.Stable, Candidate: v, Strategy: rollout.Canary, Step: step,
				Weight: w, UpdatedAt: time.Now().UTC(), Actor: "bench", Reason: "bench: step " + strconv.Itoa(step)})
			if err != nil {
				return err
			}
		}
		err := adm.await(ctx, t, fmt.Sprintf("version %d at %d bp", v, w), func(m *adminModel) bool {
			mv := m.version(v)
			return mv != nil && mv.TrafficBP == w
		})
		if err != nil {
			return err
		}
	}
	for _, a := range []struct {
		action string
		body   map[string]any
		want   int
	}{
		{"promote", map[string]any{"version": v, "strategy": rollout.BlueGreen, "reason": "bench: finish"}, v},
		{"rollback", map[string]any{"reason": "bench: roll back"}, v - 1},
		{"promote", map[string]any{"version": v, "strategy": rollout.BlueGreen, "reason": "bench: blue/green"}, v},
		{"rollback", map[string]any{"reason": "bench: roll back again"}, v - 1},
	} {
		if err := adm.action(a.action, a.body); err != nil {
			return err
		}
		if err := pr.awaitAnswer(ctx, a.want, t); err != nil {
			return fmt.Errorf("after %s: %w", a.action, err)
		}
	}
	return nil
}
