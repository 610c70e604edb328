package bench

import (
	"context"
	"testing"
)

// TestCacheCostSmoke runs the response cache scenario for one round of
// short phases of each comparison against a real `switchyard serve`,
// built from this module. It checks that every measurement was taken,
// that the repeated rows hit the cache and the all-miss rows never did
// (CacheCost fails otherwise), never how fast.
func TestCacheCostSmoke(t *testing.T) {
	rep := smokeRounds(t, func(ctx context.Context, cfg RoundsConfig) (*CacheReport, error) {
		return CacheCost(ctx, CacheConfig{RoundsConfig: cfg})
	})
	for _, c := range []*CacheComparison{&rep.Repeated, &rep.Misses} {
		checkRoundPhases(t, c.Phases, 1, func(p CachePhase) bool { return p.Cache })
		checkRatio(t, &c.RoundsReport)
		on := c.Phases[1]
		if on.Misses == 0 {
			t.Errorf("%s: the phase with the cache on counted no miss: %+v", c.Workload, on)
		}
		if c.HitShare != on.HitShare {
			t.Errorf("%s: hit share %v; want the one phase's, %v", c.Workload, c.HitShare, on.HitShare)
		}
	}
	if r := rep.Repeated; r.Workload != "repeated" || r.Rows != CacheRows || r.HitShare <= 0 || r.HitShare >= 1 {
		t.Errorf("repeated: workload %q, %d rows, hit share %v; want %d rows and a share in (0, 1)", r.Workload, r.Rows, r.HitShare, CacheRows)
	}
	if m := rep.Misses; m.Workload != "misses" || m.HitShare != 0 || m.Phases[1].Hits != 0 {
		t.Errorf("misses: workload %q, hit share %v, %d hits; want none", m.Workload, m.HitShare, m.Phases[1].Hits)
	}
	checkReport(t, rep, "--cache (repeated)", "--cache (misses)", "hit share", "÷ off", "median",
		"repeated rows: cache on ÷ off", "every request a miss: cache on ÷ off",
		verdict(rep.Repeated.Goals[0]), verdict(rep.Misses.Goals[0]))
}
