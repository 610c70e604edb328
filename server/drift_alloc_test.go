//go:build !race

package server

import (
	"encoding/binary"
	"log/slog"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/engine"
)

// TestOfferDriftAllocs pins that the hand-off to the drift monitor
// allocates nothing on the hot path: offering a request (here to a
// stalled monitor, which drops it), and copying its rows and scores into
// a pooled sample.
func TestOfferDriftAllocs(t *testing.T) {
	ts, _ := startDriftServer(t)
	v, err := ts.store.Lookup("steady", 1)
	if err != nil {
		t.Fatal(err)
	}
	x := normalRows(rand.New(rand.NewPCG(3, 3)), 8, -1, 0)
	var data []byte
	for _, f := range x {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(f))
	}
	in := []engine.Tensor{{Name: "input", DType: engine.FP32, Shape: []int64{8, 3}, Data: data}}
	out := ts.engineRun(t, "steady", in[0])
	m, err := drift.New(drift.Config{Queue: 1, Logger: slog.New(slog.DiscardHandler)}, prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{Drift: m}}
	id := []byte("3f9a1c0b5e7d2a48-000000000000002a")
	s.offerDrift(v, id, in, out, false) // fills the stalled monitor's one buffer
	if n := testing.AllocsPerRun(100, func() { s.offerDrift(v, id, in, out, false) }); n != 0 {
		t.Errorf("offerDrift to a full monitor: %v allocations; want 0", n)
	}

	smp := mustTake(t, id)
	smp.SetRowsFP32(in[0].Data, 3)
	n := testing.AllocsPerRun(100, func() {
		smp.SetRowsFP32(in[0].Data, 3)
		v.EachScore(out, func(x float64) bool { smp.AddScore(x); return true })
	})
	if n != 0 {
		t.Errorf("copying rows and scores into a warm sample: %v allocations; want 0", n)
	}
}

// mustTake returns a sample of a fresh monitor.
func mustTake(t *testing.T, id []byte) *drift.Sample {
	t.Helper()
	m, err := drift.New(drift.Config{Queue: 1, Logger: slog.New(slog.DiscardHandler)}, prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	smp := m.Take(&driftSource{}, id)
	if smp == nil {
		t.Fatal("Take = nil")
	}
	return smp
}
