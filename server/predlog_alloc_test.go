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

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestOfferLogAllocs pins that the hand-off to the prediction log
// allocates nothing on the hot path: offering a V2 request and each row
// of a records request to a log whose writer is stalled (which drops
// them, and leaves the records' rows to the drift monitor), and to one
// with a free record.
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
	newLog := func(maxBuffer int) *tracking.PredictionLog {
		l, err := tracking.NewPredictionLog(st, tracking.LogConfig{MaxBuffer: maxBuffer, Logger: slog.New(slog.DiscardHandler)}, prometheus.NewPedanticRegistry())
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	id := []byte("3f9a1c0b5e7d2a48-000000000000002a")
	at := time.Now()
	// flush runs the writer once: it writes what the buffers hold and
	// returns, swapping in the buffer it wrote last.
	flush := func(l *tracking.PredictionLog) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		l.Run(ctx)
	}

	// Full: the buffer past its bound, every prediction dropped, and the
	// rows of a records request offered to the drift monitor instead.
	m, err := drift.New(drift.Config{Queue: 1, Logger: slog.New(slog.DiscardHandler)}, prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{PredictionLog: newLog(1), Drift: m}, ids: newPredictionIDs()}
	s.offerLog(v, id, at, in, out)
	if n := testing.AllocsPerRun(100, func() { s.offerLog(v, id, at, in, out) }); n != 0 {
		t.Errorf("offerLog to a full log: %v allocations; want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { s.offerRecords(v, 0, 8, in, out) }); n != 0 {
		t.Errorf("offerRecords to a full log: %v allocations; want 0", n)
	}

	// Warm: the buffers grown by two rounds of traffic and writes, then
	// less traffic than they hold.
	l := newLog(0)
	s = &Server{cfg: Config{PredictionLog: l}, ids: newPredictionIDs()}
	for range 2 {
		for range 300 {
			s.offerLog(v, id, at, in, out)
			s.offerRecords(v, 0, 8, in, out)
		}
		flush(l)
	}
	if n := testing.AllocsPerRun(100, func() { s.offerLog(v, id, at, in, out) }); n != 0 {
		t.Errorf("offerLog to a warm log: %v allocations; want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { s.offerRecords(v, 0, 8, in, out) }); n != 0 {
		t.Errorf("offerRecords to a warm log: %v allocations; want 0", n)
	}
}
