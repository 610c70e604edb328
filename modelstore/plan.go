package modelstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/switchyard-ml/switchyard/rollout"
)

// pass compares one model's directory with what is loaded and acts: it
// picks up new and removed versions and policy edits, publishes the
// route, and drains what should no longer be loaded. Loads are started by
// dispatch.
func (s *Store) pass(ctx context.Context, name string) {
	if !ValidName(name) {
		return
	}
	m := s.models[name]
	onDisk, err := completeVersions(filepath.Join(s.cfg.Dir, name))
	if err != nil {
		s.log.Error("cannot scan a model directory; what is loaded stays as it is", "model", name, "error", err)
		return
	}
	if m == nil {
		if onDisk == nil {
			return
		}
		m = s.newModel(name)
	}
	if onDisk != nil {
		s.readPolicy(m)
		s.readDesired(m, onDisk)
	}
	for n, v := range m.versions {
		if _, ok := onDisk[n]; ok && !v.gone {
			continue
		}
		v.gone = true
		if !v.State().loaded() {
			delete(m.versions, n)
			s.metrics.forgetVersion(name, v.Label)
		}
	}
	for n := range onDisk {
		if m.versions[n] == nil {
			m.versions[n] = newVersion(name, n, filepath.Join(m.dir, strconv.Itoa(n)), m.live)
		}
	}
	s.route(m)
	s.startGates(ctx, m)
	want := s.wanted(m)
	stable := m.stable()
	for _, v := range m.versions {
		if v.State() != Ready || want[v.Number] {
			continue
		}
		var reason string
		switch {
		case m.unloaded:
			reason = "model unloaded through the repository API"
		case v.gone && stable != nil:
			reason = fmt.Sprintf("version directory removed from the registry; version %d serves", stable.Number)
		case v.gone:
			reason = "version directory removed from the registry; no other version is ready"
		case v.Number > stable.Number:
			reason = fmt.Sprintf("superseded by a newer version; version %d serves", stable.Number)
		default:
			reason = fmt.Sprintf("replaced by version %d; beyond keep_previous (%d)", stable.Number, m.policy.keep)
		}
		s.startDrain(ctx, v, reason)
	}
	s.pinManual(m)
	if len(m.versions) == 0 && onDisk == nil {
		s.applyCache(m, nil)
		delete(s.models, name)
		s.metrics.forget(name)
		next := maps.Clone(*s.snap.Load())
		delete(next, name)
		s.snap.Store(&next)
		return
	}
	s.snapshot(m)
}

// route publishes the model's route if it changed. With a valid
// rollout.json the stable version it names takes the traffic its
// candidate (when ready) does not; without one, the newest ready version
// takes all of it (rollout.Stable). Every ready version may be named
// explicitly. route runs before anything is drained, so a version leaves
// the table before it stops taking requests.
func (s *Store) route(m *model) {
	var ready []*Version
	byNumber := map[int]*Version{}
	if !m.unloaded {
		for _, n := range m.numbers() {
			if v := m.versions[n]; v.State() == Ready && !v.gone {
				ready = append(ready, v)
				byNumber[n] = v
			}
		}
	}
	var stable, cand, shadow *Version
	weight := 0
	if st := m.desired.state; st != nil && len(ready) > 0 {
		if v := byNumber[st.Shadow]; v != nil && st.Shadow != st.Stable {
			shadow = v
		}
		stable = byNumber[st.Stable]
		if stable == nil {
			// The stable version named is not ready (yet): keep serving
			// what serves rather than nothing.
			stable = byNumber[versionNumber(m.stableV)]
		}
		if c := byNumber[st.Candidate]; c != nil && c != stable && st.Weight > 0 {
			cand, weight = c, st.Weight
		}
	}
	if stable == nil && m.desired.state == nil && holds(m.policy.rollout.OnPublish) {
		// The controller rolls new versions out as on_publish says, or a
		// person promotes them (manual); until then, what serves keeps
		// serving. When nothing serves, the newest ready version does:
		// under manual, until pinManual writes it into rollout.json.
		if m.stableV == nil && m.policy.rollout.OnPublish == rollout.Manual {
			m.firstServe = true
		}
		if !m.firstServe {
			stable = byNumber[versionNumber(m.stableV)]
		}
	}
	if stable == nil && len(ready) > 0 {
		numbers := make([]int, len(ready))
		for i, v := range ready {
			numbers[i] = v.Number
		}
		stable = byNumber[rollout.Stable(numbers)]
	}
	if slices.Equal(ready, m.routed) && stable == m.stableV && cand == m.cand && weight == m.weight && shadow == m.shadow {
		return
	}
	old := m.stableV
	m.routed, m.stableV, m.cand, m.weight, m.shadow = ready, stable, cand, weight, shadow
	var rt *rollout.Route[*Version]
	switch {
	case cand != nil:
		rt = rollout.Split(stable.Number, stable, cand.Number, cand, weight, byNumber)
	case stable != nil:
		rt = rollout.Single(stable.Number, stable, byNumber)
	}
	if rt != nil && shadow != nil {
		rt = rt.WithShadow(shadow)
	}
	s.router.Publish(s.router.Table().With(m.name, rt))
	weights := map[int]int{}
	if rt != nil {
		for _, a := range rt.Arms() {
			weights[a.Version] += a.Weight
		}
	}
	s.metrics.route(m.name, weights)
	if cand != nil {
		s.log.Info("routing", "model", m.name, "stable", stable.Number, "candidate", cand.Number, "weight_bp", weight)
	}
	if now := m.stableV; now != old {
		switch {
		case now == nil:
			s.log.Warn("model has no ready version: its requests get 503", "model", m.name, "was", old.Number)
		case old == nil:
			s.log.Info("serving", "model", m.name, "version", now.Number)
		default:
			s.log.Info("serving version changed", "model", m.name, "from", old.Number, "to", now.Number)
		}
	}
}

// pinManual writes, under on_publish manual, the version that serves into
// rollout.json when no rollout.json names one, once the model has settled
// (nothing loading, gating or draining): a model's first version serves,
// since there is nothing to protect, and from then on nothing moves until
// a person promotes, also across a restart. A write that fails is retried
// as any rollout.json write is (see persist).
func (s *Store) pinManual(m *model) {
	if m.desired.state != nil {
		m.firstServe = false
		return
	}
	stable := m.stable()
	if m.policy.rollout.OnPublish != rollout.Manual || stable == nil || m.unloaded || !s.settled(m.name) {
		return
	}
	st := &rollout.State{Stable: stable.Number, Strategy: rollout.Manual, UpdatedAt: time.Now().UTC(), Actor: actorReconciler,
		Reason: fmt.Sprintf("on_publish is manual and nothing else served: version %d serves until a person promotes another", stable.Number)}
	data, err := rollout.EncodeState(st)
	if err != nil {
		panic(fmt.Sprintf("BUG: a pinned state does not encode: %v", err))
	}
	m.desired.state, m.firstServe = st, false
	s.persist(m, st, data)
	s.log.Info("on_publish manual: rollout.json pins the version that serves", "model", m.name, "stable", stable.Number)
}

// holds reports whether, under on_publish, a newly ready version leaves
// the version that serves in place when no rollout.json says otherwise:
// every value but latest (the default) holds it.
func holds(onPublish string) bool { return onPublish != rollout.Latest && onPublish != "" }

// versionNumber returns v's number, or 0 for nil.
func versionNumber(v *Version) int {
	if v == nil {
		return 0
	}
	return v.Number
}

// wanted returns the numbers of the versions that should be loaded: the
// stable one, the newest version above it that has not failed (the next
// candidate), the newest ready version above it (the newest that passed
// its gate, so that a promote is instant while a newer one is judged),
// the baselines the gate compares versions still to be judged with, and
// the keep_previous newest versions below stable that have not failed.
func (s *Store) wanted(m *model) map[int]bool {
	want := map[int]bool{}
	if m.unloaded {
		return want
	}
	var nums []int
	for _, n := range m.numbers() {
		if v := m.versions[n]; !v.gone && v.State() != Failed {
			nums = append(nums, n)
		}
	}
	stable := 0
	if v := m.stable(); v != nil {
		stable = v.Number
		want[stable] = true
	}
	if st := m.desired.state; st != nil {
		for _, n := range []int{st.Stable, st.Candidate, st.Shadow} {
			if v := m.versions[n]; v != nil && !v.gone && v.State() != Failed {
				want[n] = true
			}
		}
	}
	if n := len(nums); n > 0 && nums[n-1] > stable {
		want[nums[n-1]] = true
	}
	for _, n := range slices.Backward(nums) {
		if n > stable && m.versions[n].State() == Ready {
			want[n] = true // the newest that passed its gate, while a newer one is judged
			break
		}
	}
	for _, n := range slices.Collect(maps.Keys(want)) {
		if v := m.versions[n]; v.State() != Ready {
			if b := m.baseline(v); b != nil {
				want[b.Number] = true // the gate compares v with it
			}
		}
	}
	if stable > 0 {
		i, _ := slices.BinarySearch(nums, stable)
		for k := m.policy.keep; k > 0 && i > 0; k-- {
			i--
			want[nums[i]] = true
		}
	}
	return want
}

// nextLoad returns the version of m that should be loaded next, newest
// first, or nil.
func (s *Store) nextLoad(m *model) *Version {
	want := s.wanted(m)
	nums := slices.Sorted(maps.Keys(want))
	for _, n := range slices.Backward(nums) {
		if v := m.versions[n]; v.State() == Unloaded {
			return v
		}
	}
	return nil
}

// completeVersions returns the complete versions in a model directory,
// or nil when the directory does not exist.
func completeVersions(dir string) (map[int]struct{}, error) {
	complete, _, err := listVersions(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[int]struct{}, len(complete))
	for _, n := range complete {
		out[n] = struct{}{}
	}
	return out, nil
}
