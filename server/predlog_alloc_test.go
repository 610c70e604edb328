//go:build !race

package server

import (
	"context"
	"encoding/binary"
	"log/slog"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestOfferLogAllocs pins that the hand-off to the prediction log
// allocates nothing on the hot path: offering a V2 request and each row
// of a records request to a log whose writer is stalled (which drops
// them), and to one with a free record.
func TestOfferLogAllocs(t *testing.T) {
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
	st, err := tracking.Open(context.Background(), t.TempDir(), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	newLog := func(queue int) *tracking.PredictionLog {
		l, err := tracking.NewPredictionLog(st, tracking.LogConfig{Queue: queue, Logger: slog.New(slog.DiscardHandler)}, prometheus.NewPedanticRegistry())
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	id := []byte("3f9a1c0b5e7d2a48-000000000000002a")

	// Stalled: the one record is queued, every later prediction dropped.
	s := &Server{cfg: Config{PredictionLog: newLog(1)}, ids: newPredictionIDs()}
	s.offerLog(v, id, in, out)
	if n := testing.AllocsPerRun(100, func() { s.offerLog(v, id, in, out) }); n != 0 {
		t.Errorf("offerLog to a full log: %v allocations; want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { s.offerLogRows(v, 0, 8, in, out) }); n != 0 {
		t.Errorf("offerLogRows to a full log: %v allocations; want 0", n)
	}

	// Free: the one record of a log, grown by a first use, taken again
	// and filled. A record's buffers are reset only by Take, so the first
	// use grows them past what the count's runs append.
	l := newLog(1)
	r := l.Take(v.Model, id)
	for range 101 {
		r.AppendInputs(in[0].Data[:12])
		v.EachScore(out, func(x float64) bool { r.AddScore(x); return true })
	}
	l.Offer(r)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l.Run(ctx) // a writer told to stop at once: it writes the queue, returning the record to the pool
	if r = l.Take(v.Model, id); r == nil {
		t.Fatal("no free record")
	}
	n := testing.AllocsPerRun(100, func() {
		r.Set(v.Model, v.Number, "", time.Now())
		r.AppendInputs(in[0].Data[:12])
		v.EachScore(out, func(x float64) bool { r.AddScore(x); return true })
	})
	if n != 0 {
		t.Errorf("filling a warm record: %v allocations; want 0", n)
	}
}
