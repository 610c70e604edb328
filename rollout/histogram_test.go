package rollout_test

import (
	"math"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/rollout"
)

// quantileOf records ds into a real ArmStats and returns its q-quantile.
func quantileOf(q float64, ds ...time.Duration) time.Duration {
	var a rollout.ArmStats
	for _, d := range ds {
		a.RecordSuccess(testEnd, d, 0.5)
	}
	s := a.Snapshot()
	return s.Latency.Quantile(q)
}

// TestLatencyQuantileErrorBound checks the documented bound: between
// 1.024µs and 17.18s the estimate is within 1/16 of the latency.
func TestLatencyQuantileErrorBound(t *testing.T) {
	for d := 1024 * time.Nanosecond; d < 17*time.Second; d = d*101/100 + 1 {
		got := quantileOf(0.99, d)
		if rel := math.Abs(float64(got-d)) / float64(d); rel > 1.0/16 {
			t.Fatalf("Quantile of one latency %v = %v; off by %.2f%%, beyond 6.25%%", d, got, rel*100)
		}
	}
}

func TestLatencyQuantile(t *testing.T) {
	f := func(q float64, ds []time.Duration, want time.Duration) {
		t.Helper()
		if got := quantileOf(q, ds...); got != want {
			t.Errorf("Quantile(%v) of %d latencies = %v; want %v", q, len(ds), got, want)
		}
	}
	f(0.99, nil, 0)
	f(0.99, []time.Duration{0}, 512*time.Nanosecond)
	f(0.99, []time.Duration{-time.Second}, 512*time.Nanosecond)
	f(0.99, []time.Duration{time.Minute}, 1<<34) // overflow: its lower bound
	// The bucket of 1ms (1,000,000ns) is [983,040, 1,048,576): middle 1,015,808.
	f(0.99, []time.Duration{time.Millisecond}, 1015808)
	var ms []time.Duration
	for i := 1; i <= 100; i++ {
		ms = append(ms, time.Duration(i)*time.Millisecond)
	}
	within := func(q float64, want time.Duration) {
		t.Helper()
		got := quantileOf(q, ms...)
		if math.Abs(float64(got-want)) > float64(want)/16 {
			t.Errorf("Quantile(%v) of 1..100ms = %v; want %v within 6.25%%", q, got, want)
		}
	}
	within(0.99, 99*time.Millisecond)
	within(0.5, 50*time.Millisecond)
	within(1, 100*time.Millisecond)
	within(0, time.Millisecond)
	within(-1, time.Millisecond)
	within(math.NaN(), time.Millisecond)
	within(2, 100*time.Millisecond)
}

func TestScoreHistogramBuckets(t *testing.T) {
	f := func(score float64, bucket int) {
		t.Helper()
		var a rollout.ArmStats
		a.RecordScore(score)
		s := a.Snapshot()
		var want rollout.ScoreHistogram
		if bucket >= 0 {
			want[bucket] = 1
		}
		if s.Scores != want {
			t.Errorf("RecordScore(%v) counts %v; want bucket %d", score, s.Scores, bucket)
		}
	}
	f(0, 0)
	f(0.049, 0)
	f(0.05, 1)
	f(0.5, 10)
	f(0.999, 19)
	f(1, 19)
	f(-3, 0)
	f(7, 19)
	f(math.Inf(1), 19)
	f(math.Inf(-1), 0)
	f(math.NaN(), -1)
}
