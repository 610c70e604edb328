package tracking

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkPredictionLog measures the log's whole path per prediction:
// Take and Offer on the caller's side, the writer's batching, encoding
// and write on its own goroutine.
func BenchmarkPredictionLog(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l, err := NewPredictionLog(s, LogConfig{Logger: slog.New(slog.DiscardHandler)}, prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	in := make([]byte, 120)
	id := make([]byte, 0, 40)
	n := uint64(0)
	for b.Loop() {
		id = strconv.AppendUint(append(id[:0], "3f9a1c0b5e7d2a48-"...), n, 16)
		n++
		for {
			if r := l.Take("small", id); r != nil {
				r.Set(1, "", time.Now())
				r.AppendInputs(in)
				r.AddScore(0.25)
				l.Offer(r)
				break
			}
			time.Sleep(time.Microsecond) // the queue is full: let the writer drain it
		}
	}
	cancel()
	<-done
}

// BenchmarkFeedback measures a feedback request of 1,000 labels of
// predictions spread over a log of many sealed segments (every label a
// duplicate after the first round: the lookups, and the transaction that
// checks each label).
func BenchmarkFeedback(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir(), Config{SegmentBytes: 64 << 10})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 200_000
	at := time.Now().Add(-time.Hour)
	for i := 0; i < n; i += 1000 {
		ps := make([]Prediction, 1000)
		for j := range ps {
			ps[j] = Prediction{ID: "p-" + strconv.Itoa(i+j), Time: at, Model: "small", Version: 1, Inputs: make([]byte, 120), Scores: []float64{0.5}}
		}
		if err := s.LogPredictions(context.Background(), ps); err != nil {
			b.Fatal(err)
		}
	}
	labels := make([]Label, 1000)
	for j := range labels {
		labels[j] = Label{PredictionID: "p-" + strconv.Itoa(n-1000+j), Value: []byte("1")}
	}
	for b.Loop() {
		if _, err := s.Feedback(context.Background(), labels); err != nil {
			b.Fatal(err)
		}
	}
}
