package server

import (
	"crypto/rand"
	"sync/atomic"
)

// predictionIDs hands out prediction ids: the id of one answered
// prediction, which the records API returns per instance and V2 per
// request (parameters.prediction_id), for feedback to name later.
//
// An id is the process's prefix, 16 hex digits drawn from crypto/rand
// when the server is built, a dash, and a counter as 16 hex digits:
//
//	3f9a1c0b5e7d2a48-000000000000002a
//
// Ids are unique within a process by the counter and across processes
// and restarts by the prefix (two servers share one with probability
// 2^-64 per pair); within a process they sort in the order they were
// handed out. Taking ids costs one atomic add per request and formatting
// them allocates nothing. Safe for concurrent use.
type predictionIDs struct {
	prefix [predictionPrefixLen]byte
	next   atomic.Uint64
}

// predictionPrefixLen is the length of an id's prefix, its dash included;
// predictionIDLen is the length of a whole id.
const (
	predictionPrefixLen = 17
	predictionIDLen     = predictionPrefixLen + 16
)

// newPredictionIDs returns a generator with a fresh random prefix.
func newPredictionIDs() *predictionIDs {
	var seed [8]byte
	rand.Read(seed[:]) // never fails; it crashes the program first (crypto/rand)
	g := new(predictionIDs)
	for i, b := range seed {
		g.prefix[2*i], g.prefix[2*i+1] = hexDigits[b>>4], hexDigits[b&0xf]
	}
	g.prefix[16] = '-'
	return g
}

// reserve takes n consecutive ids and returns the counter of the first;
// appendID formats each.
func (g *predictionIDs) reserve(n int) uint64 {
	return g.next.Add(uint64(n)) - uint64(n)
}

// appendID appends the id of counter k to dst and returns the extended
// slice; it allocates only when dst lacks capacity.
func (g *predictionIDs) appendID(dst []byte, k uint64) []byte {
	dst = append(dst, g.prefix[:]...)
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[k>>uint(shift)&0xf])
	}
	return dst
}

// hexDigits are the digits of a prediction id.
const hexDigits = "0123456789abcdef"
