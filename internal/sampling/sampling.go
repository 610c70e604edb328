// Package sampling chooses a share of predictions by their ids, the same
// way wherever it is asked (the drift monitor, the prediction log), so
// that components sampling at the same share keep the same predictions.
package sampling

import "math"

// All is the bound of a share of 1: every id is kept.
const All = math.MaxUint64

// Bound turns a share in [0, 1] into the bound Keep compares an id's hash
// with.
func Bound(share float64) uint64 {
	if share >= 1 {
		return All
	}
	if share <= 0 {
		return 0
	}
	return uint64(share * math.MaxUint64)
}

// Keep reports whether id is among the share of ids that bound keeps.
func Keep(id []byte, bound uint64) bool {
	return bound == All || Hash(id) < bound
}

// Hash is FNV-1a over id, with splitmix64's finalizer so that ids
// differing only in their last digits spread over the whole range. It is
// fixed, so that processes agree.
func Hash(id []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, b := range id {
		h ^= uint64(b)
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}
