package rollout

import "math/rand/v2"

// Buckets is how many buckets a model's traffic is split into: an arm of
// weight w (basis points) owns w buckets.
const Buckets = FullWeight

// Bucket returns the bucket of a routing key for a model: a fixed hash
// (FNV-1a, then a 64-bit finaliser) of the model name and the key, so that
// every replica with the same table puts the same key in the same bucket.
// It allocates nothing.
func Bucket(model string, key []byte) int {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(model); i++ {
		h = (h ^ uint64(model[i])) * prime
	}
	h = (h ^ 0xff) * prime // separates the model from the key
	for _, c := range key {
		h = (h ^ uint64(c)) * prime
	}
	// splitmix64's finaliser spreads FNV's low bits, which a short key
	// leaves poorly mixed.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return int(h % Buckets)
}

// PickKey returns the target of a request for model that names no
// version. With one arm that is its target. With several, the request's
// routing key (nil: none) picks the bucket, and the arms own consecutive
// ranges of buckets in the order of Arms: the first arm owns the buckets
// from 0, so a key on the first arm (the candidate, by convention) stays
// on it as its weight grows. A request without a key is split by a
// random draw. A nil Route serves nothing.
func (r *Route[V]) PickKey(model string, key []byte) (V, bool) {
	if r == nil || len(r.arms) == 0 {
		var zero V
		return zero, false
	}
	if len(r.arms) == 1 {
		return r.arms[0].Target, true
	}
	var b int
	if key == nil {
		b = rand.IntN(Buckets)
	} else {
		b = Bucket(model, key)
	}
	for i := range r.arms {
		if b < r.arms[i].Weight {
			return r.arms[i].Target, true
		}
		b -= r.arms[i].Weight
	}
	return r.arms[len(r.arms)-1].Target, true
}

// Split returns a route whose candidate takes weight basis points of the
// requests that name no version (the buckets from 0) and stable the rest;
// byNumber holds the versions a request may name (kept, not copied).
func Split[V any](stable int, stableTarget V, candidate int, candidateTarget V, weight int, byNumber map[int]V) *Route[V] {
	weight = min(max(weight, 0), FullWeight)
	return &Route[V]{arms: []Arm[V]{
		{Version: candidate, Weight: weight, Target: candidateTarget},
		{Version: stable, Weight: FullWeight - weight, Target: stableTarget},
	}, versions: byNumber}
}
