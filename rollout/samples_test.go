package rollout_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/rollout"
)

// testEnd is when the tests' requests end.
var testEnd = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestSamplesRoundTrip(t *testing.T) {
	var a rollout.ArmStats
	a.RecordSuccess(testEnd, 1500*time.Microsecond, 0.25)
	a.RecordError(testEnd.Add(time.Second), 3*time.Second) // beyond the cap
	a.RecordSuccess(testEnd.Add(2*time.Second), -time.Second, math.NaN())
	got, next := a.Samples(nil, 0)
	if next != 3 || len(got) != 3 {
		t.Fatalf("Samples(nil, 0) = %d samples, next %d; want 3, 3", len(got), next)
	}
	if s := got[0]; s.At != testEnd.UnixNano() || s.Latency != 1500*time.Microsecond || s.Failed || s.Score != 0.25 {
		t.Errorf("sample 0 = %+v", s)
	}
	if s := got[1]; !s.Failed || s.Latency != 1<<31-1 || !math.IsNaN(float64(s.Score)) {
		t.Errorf("sample 1 = %+v; want failed, latency capped, no score", s)
	}
	if s := got[2]; s.Latency != 0 || s.Failed {
		t.Errorf("sample 2 = %+v; want latency 0", s)
	}
	if more, n := a.Samples(got[:0], next); len(more) != 0 || n != 3 {
		t.Errorf("Samples from the end = %d samples, next %d; want none, 3", len(more), n)
	}
}

func TestSamplesKeepsTheLatest(t *testing.T) {
	var a rollout.ArmStats
	for i := range rollout.RingSize + 10 {
		a.RecordSuccess(testEnd.Add(time.Duration(i)), time.Duration(i), 0.5)
	}
	got, next := a.Samples(nil, 0)
	if len(got) != rollout.RingSize || next != rollout.RingSize+10 {
		t.Fatalf("Samples after a lap = %d samples, next %d; want %d, %d", len(got), next, rollout.RingSize, rollout.RingSize+10)
	}
	if got[0].Latency != 10 || got[len(got)-1].Latency != rollout.RingSize+9 {
		t.Errorf("Samples after a lap run from %v to %v; want 10 to %d", got[0].Latency, got[len(got)-1].Latency, rollout.RingSize+9)
	}
	var none *rollout.ArmStats
	if got, next := none.Samples(nil, 7); got != nil || next != 7 || none.SampleIndex() != 0 {
		t.Error("a nil ArmStats has samples")
	}
}

// TestSamplesConcurrent records from several goroutines while another
// reads, under the race detector in CI: every sample read is whole (its
// latency and score were written together).
func TestSamplesConcurrent(t *testing.T) {
	var a rollout.ArmStats
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 20000 {
				d := time.Duration(w*100000 + i)
				a.RecordSuccess(testEnd, d, float64(d)/1e6)
			}
		})
	}
	done := make(chan struct{})
	bad := make(chan rollout.Sample, 1)
	go func() {
		defer close(done)
		var buf []rollout.Sample
		var from uint64
		for from < 80000 {
			buf, from = a.Samples(buf[:0], from)
			for _, s := range buf {
				if s.Score != float32(float64(s.Latency)/1e6) {
					select {
					case bad <- s:
					default:
					}
				}
			}
		}
	}()
	wg.Wait()
	<-done
	select {
	case s := <-bad:
		t.Fatalf("torn sample %+v", s)
	default:
	}
}
