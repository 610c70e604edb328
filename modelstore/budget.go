package modelstore

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// dispatch starts the next load, if none is running. Loads run one at a
// time, so that each one's cost in resident memory can be measured.
func (s *Store) dispatch(ctx context.Context) {
	for s.loading == nil {
		m, v := s.pickLoad()
		if v == nil {
			return
		}
		if err := m.policy.err; err != nil && m.policy.lastGood == nil {
			v.policyFailure = true
			s.transition(v, Failed, err.Error())
			s.pass(ctx, m.name)
			continue
		}
		need := s.estimate(m, v)
		if budget := s.cfg.MemoryBudget; budget > 0 {
			used, draining := s.used()
			if used+need > budget {
				if draining {
					return // the drains in progress will free memory
				}
				s.transition(v, Failed, fmt.Sprintf("memory budget: loading needs about %s, and %s of the %s budget is taken by versions that serve or are kept for rollback",
					mib(need), mib(used), mib(budget)))
				s.pass(ctx, m.name)
				continue
			}
		}
		nv := newVersion(m.name, v.Number, v.Dir, m.live)
		s.loads++
		nv.reserved, nv.loadID = need, s.loads
		m.versions[v.Number] = nv
		s.transition(nv, Loading, "")
		s.loading = nv
		s.snapshot(m)
		lc := loadConfig{engine: s.cfg.Engine, maxModelBytes: s.cfg.MaxModelBytes, batching: m.policy.batching, metrics: s.cfg.BatchMetrics, log: s.log}
		s.spawn(ctx, func(context.Context) outcome {
			return outcome{v: nv, phase: phaseLoaded, err: nv.load(lc)}
		})
	}
}

// pickLoad returns the first model, by name, with a version to load.
func (s *Store) pickLoad() (*model, *Version) {
	for _, name := range slices.Sorted(maps.Keys(s.models)) {
		m := s.models[name]
		if v := s.nextLoad(m); v != nil {
			return m, v
		}
	}
	return nil, nil
}

// estimate is what loading v is expected to cost in resident memory:
// twice the size of its model.onnx, or the largest measured cost of a
// loaded version of the same model if that is more.
func (s *Store) estimate(m *model, v *Version) int64 {
	var est int64
	if fi, err := os.Stat(filepath.Join(v.Dir, ModelFile)); err == nil {
		est = 2 * fi.Size()
	}
	for _, o := range m.versions {
		if o.State().loaded() && o.reserved > est {
			est = o.reserved
		}
	}
	return est
}

// used returns the memory reserved by loaded versions, and whether any is
// draining (and so about to give its share back).
func (s *Store) used() (total int64, draining bool) {
	for _, m := range s.models {
		for _, v := range m.versions {
			if st := v.State(); st.loaded() {
				total += v.reserved
				draining = draining || st == Draining
			}
		}
	}
	return total, draining
}

// mib formats a byte count for people.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
