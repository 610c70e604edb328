//go:build !race

package tracking

import (
	"testing"
	"time"
)

// TestPredictionLogTakeOfferAllocs pins that the request path's side of
// the prediction log allocates nothing once the pool is warm.
func TestPredictionLogTakeOfferAllocs(t *testing.T) {
	_, l := newTestLog(t, LogConfig{Queue: 1})
	id := []byte("3f9a1c0b5e7d2a48-000000000000002a")
	in := make([]byte, 96)
	at := time.Now()
	cycle := func() {
		r := l.Take("m", id)
		r.Set("m", 1, "", at)
		r.AppendInputs(in)
		r.AddScore(0.5)
		r.AddScore(0.5)
		l.Offer(r)
		l.free <- <-l.queue // what the writer does, without the copy
	}
	cycle()
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Errorf("Take, fill and Offer: %v allocations; want 0", n)
	}
	l.Offer(l.Take("m", id)) // the one record is queued: the next is dropped
	if n := testing.AllocsPerRun(100, func() { l.Offer(l.Take("m", id)) }); n != 0 {
		t.Errorf("Take and Offer with a full queue: %v allocations; want 0", n)
	}
}
