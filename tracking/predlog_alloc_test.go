//go:build !race

package tracking

import (
	"testing"
	"time"
)

// TestPredictionLogTakeOfferAllocs pins that the request path's side of
// the prediction log allocates nothing once the model's buffer has
// grown, and nothing when a full buffer drops.
func TestPredictionLogTakeOfferAllocs(t *testing.T) {
	_, l := newTestLog(t, LogConfig{MaxBuffer: 1 << 20})
	id := []byte("3f9a1c0b5e7d2a48-000000000000002a")
	in := make([]byte, 96)
	at := time.Now()
	b := l.buffer("m")
	cycle := func() {
		r := l.Take("m", id)
		r.Set(1, "", at)
		r.AppendInputs(in)
		r.AddScore(0.5)
		r.AddScore(0.5)
		l.Offer(r)
		if len(b.buf) > 1<<19 {
			b.buf = b.buf[:0] // what the writer's swap does, without the write
		}
	}
	for range 5000 { // grow the buffer to its size in use
		cycle()
	}
	if n := testing.AllocsPerRun(1000, cycle); n != 0 {
		t.Errorf("Take, fill and Offer: %v allocations; want 0", n)
	}
	for l.Take("m", id) != nil { // fill the buffer past MaxBuffer
		l.Offer(&b.rec)
	}
	if n := testing.AllocsPerRun(100, func() { l.Offer(l.Take("m", id)) }); n != 0 {
		t.Errorf("Take with a full buffer: %v allocations; want 0", n)
	}
}
