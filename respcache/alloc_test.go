//go:build !race

package respcache

import (
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
)

// TestLookupAllocs pins that a hit, and a miss, allocate nothing once
// the outputs have room.
func TestLookupAllocs(t *testing.T) {
	c, _ := newTestCache(t, 1<<20, time.Hour)
	in, other := question(0.5), question(0.25)
	put(c, 1, in, answer(0.5))
	out := make([]engine.Tensor, 2)
	if _, hit := c.Lookup(1, in, out); !hit { // out gets its room
		t.Fatal("Lookup after Put missed")
	}
	f := func(what string, q []engine.Tensor, want bool) {
		t.Helper()
		n := testing.AllocsPerRun(1000, func() {
			if _, hit := c.Lookup(1, q, out); hit != want {
				panic("the lookup's outcome changed")
			}
		})
		if n != 0 {
			t.Errorf("Lookup, %s: %v allocations; want 0", what, n)
		}
	}
	f("a hit", in, true)
	f("a miss", other, false)
}
