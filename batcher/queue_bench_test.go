package batcher

import (
	"context"
	"testing"
)

// nop is a Runner that does nothing, so the benchmark measures the queue.
type nop struct{}

func (nop) Run(context.Context, *Batch[*req]) error { return nil }

// BenchmarkDo measures the queue's own cost per request: admission,
// leading or waiting, and hand-offs, from one goroutine per P.
func BenchmarkDo(b *testing.B) {
	q, err := New[*req](Config{MaxBatchSize: 64}, nop{}, newMetrics(), "m", "1")
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close(context.Background())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		it := &Item[*req]{Payload: &req{}, Rows: 1}
		for pb.Next() {
			if err := q.Do(it); err != nil {
				b.Fatal(err)
			}
		}
	})
}
