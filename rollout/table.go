package rollout

import (
	"slices"
	"sync/atomic"
)

// FullWeight is the weight, in basis points, of an arm that takes all of
// its model's traffic.
const FullWeight = 10_000

// Arm is one version taking a share of a model's traffic.
type Arm[V any] struct {
	// Version is the version number.
	Version int
	// Weight is the arm's share of requests that name no version, in
	// basis points (FullWeight is all of them).
	Weight int
	// Target is what serves the arm.
	Target V
}

// Route is how one model's requests are served. Its fields are
// unexported so that a published Route cannot be changed: Single and
// Split build one, WithShadow derives one, and the methods read it. A
// Route is safe for concurrent use.
type Route[V any] struct {
	// arms share the requests that name no version. Empty when no version
	// serves the model.
	arms []Arm[V]
	// versions holds every version a request may name explicitly, by
	// number; such a request bypasses the split.
	versions map[int]V
	// shadow, when hasShadow, gets a copy of every request the stable arm
	// answers; its answers are never returned.
	shadow    V
	hasShadow bool
}

// Single returns a route whose one arm, version stable served by target,
// takes all traffic, and whose explicitly named versions are byNumber
// (kept, not copied: the caller must not modify it afterwards).
func Single[V any](stable int, target V, byNumber map[int]V) *Route[V] {
	return &Route[V]{arms: []Arm[V]{{Version: stable, Weight: FullWeight, Target: target}}, versions: byNumber}
}

// WithShadow returns a copy of r in which shadow gets a copy of every
// request the stable arm answers. r is left as it was.
func (r *Route[V]) WithShadow(shadow V) *Route[V] {
	next := *r
	next.shadow, next.hasShadow = shadow, true
	return &next
}

// Arms returns a copy of the arms that share the requests naming no
// version, candidate first and stable last; empty when no version serves
// the model. It allocates: the hot path uses NumArms, Pick and PickKey.
func (r *Route[V]) Arms() []Arm[V] {
	if r == nil {
		return nil
	}
	return slices.Clone(r.arms)
}

// NumArms returns how many arms share the requests that name no version:
// 0 when none serves, 2 during a split. A nil Route has none.
func (r *Route[V]) NumArms() int {
	if r == nil {
		return 0
	}
	return len(r.arms)
}

// Shadow returns the version that gets a copy of every request the
// stable arm answers, and false when the route has none.
func (r *Route[V]) Shadow() (V, bool) {
	if r == nil || !r.hasShadow {
		var zero V
		return zero, false
	}
	return r.shadow, true
}

// Pick returns the stable target: the last arm's, which takes what no
// candidate does. It is the version that describes the model (metadata,
// readiness); requests are split by PickKey. It returns false when no
// version serves the model. A nil Route serves nothing.
func (r *Route[V]) Pick() (V, bool) {
	if r == nil || len(r.arms) == 0 {
		var zero V
		return zero, false
	}
	return r.arms[len(r.arms)-1].Target, true
}

// Version returns the target of a request that names version n, or false
// when n cannot serve. A nil Route serves nothing.
func (r *Route[V]) Version(n int) (V, bool) {
	if r == nil {
		var zero V
		return zero, false
	}
	v, ok := r.versions[n]
	return v, ok
}

// Table maps model names to their routes. It is immutable: With returns a
// new table.
type Table[V any] struct {
	routes map[string]*Route[V]
}

// Route returns the named model's route, or nil when the table has none.
func (t *Table[V]) Route(model string) *Route[V] {
	if t == nil {
		return nil
	}
	return t.routes[model]
}

// With returns a copy of t in which model has route r; a nil r removes the
// model. t is left as it was.
func (t *Table[V]) With(model string, r *Route[V]) *Table[V] {
	next := &Table[V]{routes: make(map[string]*Route[V], len(t.routes)+1)}
	if t != nil {
		for k, v := range t.routes {
			next.routes[k] = v
		}
	}
	if r == nil {
		delete(next.routes, model)
	} else {
		next.routes[model] = r
	}
	return next
}

// Router holds the live table. The zero value holds an empty table.
// Readers call Table once per request and never lock; one owner
// publishes.
type Router[V any] struct {
	cur atomic.Pointer[Table[V]]
}

// Table returns the live table, never nil. Callers must treat it as
// read-only.
func (r *Router[V]) Table() *Table[V] {
	if t := r.cur.Load(); t != nil {
		return t
	}
	return &Table[V]{}
}

// Publish replaces the live table. t must not be modified after this call.
func (r *Router[V]) Publish(t *Table[V]) { r.cur.Store(t) }
