package bench

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	f := func(n int, q float64, want time.Duration) {
		t.Helper()
		sorted := make([]time.Duration, n)
		for i := range sorted {
			sorted[i] = time.Duration(i+1) * time.Millisecond
		}
		if got := percentile(sorted, q); got != want {
			t.Errorf("percentile(1..%dms, %v) = %v; want %v", n, q, got, want)
		}
	}
	f(0, 0.5, 0)
	f(1, 0.5, time.Millisecond)
	f(1, 0.999, time.Millisecond)
	f(2, 0.5, time.Millisecond)
	f(100, 0.5, 50*time.Millisecond)
	f(100, 0.9, 90*time.Millisecond)
	f(100, 0.99, 99*time.Millisecond)
	f(100, 0.999, 100*time.Millisecond)
	f(1000, 0.999, 999*time.Millisecond)
	f(1000, 0.99, 990*time.Millisecond)
	f(1000, 1, time.Second)
	f(10, 0.01, time.Millisecond)
}

func TestSummarize(t *testing.T) {
	// 1..1000 µs, shuffled: summarize must sort.
	samples := make([]time.Duration, 1000)
	for i := range samples {
		samples[i] = time.Duration((i*7919)%1000+1) * time.Microsecond
	}
	got := summarize(samples)
	want := Latency{
		Count: 1000,
		Mean:  500500 * time.Nanosecond,
		P50:   500 * time.Microsecond,
		P90:   900 * time.Microsecond,
		P99:   990 * time.Microsecond,
		P999:  999 * time.Microsecond,
		Max:   1000 * time.Microsecond,
	}
	if got != want {
		t.Fatalf("summarize(1..1000µs) = %+v; want %+v", got, want)
	}
	if got := summarize(nil); got != (Latency{}) {
		t.Fatalf("summarize(nil) = %+v; want the zero Latency", got)
	}
}
