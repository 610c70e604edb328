//go:build !race

package drift

import (
	"testing"
)

func TestTakeOfferAllocs(t *testing.T) {
	m, _, _ := newTestMonitor(t, Config{Queue: 4})
	src := newSource("", testPolicy())
	data := fp32([][]float32{{1, 2, 3}, {4, 5, 6}})
	id := []byte("3f9a1c0b5e7d2a48-000000000000002a")
	hand := func() {
		s := m.Take(src, id)
		s.SetRowsFP32(data, 3)
		s.AddScore(0.5)
		s.AddScore(0.25)
		m.Offer(s)
		m.release(<-m.samples)
	}
	hand() // grow the pooled buffers
	for range 4 {
		hand()
	}
	if n := testing.AllocsPerRun(100, hand); n != 0 {
		t.Errorf("Take, SetRowsFP32, AddScore, Offer: %v allocs; want 0", n)
	}
}
