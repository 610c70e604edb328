package rollout_test

import (
	"sync"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/rollout"
)

func TestArmStatsSnapshotSub(t *testing.T) {
	var a rollout.ArmStats
	if s := a.Snapshot(); s != (rollout.StatsSnapshot{}) || s.ErrorRate() != 0 || s.P99() != 0 {
		t.Fatalf("zero ArmStats snapshot = %+v, error rate %v, p99 %v; want zeros", s, s.ErrorRate(), s.P99())
	}
	for range 90 {
		a.RecordSuccess(testEnd, time.Millisecond, 0.5)
	}
	for range 10 {
		a.RecordError(testEnd, time.Second)
	}
	a.RecordScore(0.3)
	before := a.Snapshot()
	if before.Requests != 100 || before.Errors != 10 || before.ErrorRate() != 0.1 || before.Scores.Total() != 1 || before.Latency.Total() != 100 {
		t.Fatalf("snapshot = %d requests, %d errors, rate %v, %d scores; want 100, 10, 0.1, 1",
			before.Requests, before.Errors, before.ErrorRate(), before.Scores.Total())
	}
	if p := before.P99(); p < 937*time.Millisecond || p > 1063*time.Millisecond {
		t.Fatalf("P99 with 10%% of requests at 1s = %v; want 1s within 6.25%%", p)
	}
	for range 50 {
		a.RecordSuccess(testEnd, 2*time.Millisecond, 0.5)
		a.RecordScore(0.9)
	}
	a.RecordError(testEnd, 2*time.Millisecond)
	after := a.Snapshot()
	d := after.Sub(before)
	if d.Requests != 51 || d.Errors != 1 || d.Latency.Total() != 51 || d.Scores != hist(18, 50) {
		t.Fatalf("Sub = %d requests, %d errors, %d latencies, scores %v; want 51, 1, 51, 50 in bucket 18",
			d.Requests, d.Errors, d.Latency.Total(), d.Scores)
	}
	if p := d.P99(); p < 1875*time.Microsecond || p > 2125*time.Microsecond {
		t.Fatalf("P99 since the first snapshot = %v; want 2ms within 6.25%%", p)
	}
	if before.Requests != 100 || before.Scores.Total() != 1 {
		t.Fatal("a later record changed an earlier snapshot")
	}
	if back := before.Sub(after); back != (rollout.StatsSnapshot{}) {
		t.Fatalf("Sub in the wrong order = %+v; want zeros, not wrapped counts", back)
	}
}

func TestStatsSnapshotErrorRate(t *testing.T) {
	f := func(requests, errors uint64, want float64) {
		t.Helper()
		s := rollout.StatsSnapshot{Requests: requests, Errors: errors}
		if got := s.ErrorRate(); got != want {
			t.Errorf("ErrorRate of %d errors in %d requests = %v; want %v", errors, requests, got, want)
		}
	}
	f(0, 0, 0)
	f(0, 5, 0)
	f(4, 1, 0.25)
	f(4, 9, 1) // a snapshot built by hand with more errors than requests
}

func TestNilArmStats(t *testing.T) {
	var a *rollout.ArmStats
	a.RecordSuccess(testEnd, time.Millisecond, 0.5)
	a.RecordError(testEnd, time.Millisecond)
	a.RecordScore(0.5)
	if s := a.Snapshot(); s != (rollout.StatsSnapshot{}) {
		t.Fatalf("nil ArmStats snapshot = %+v; want zeros", s)
	}
}

// TestArmStatsConcurrent records from many goroutines while another
// snapshots; run it under -race. Every record must be counted, and no
// snapshot may show more errors than requests.
func TestArmStatsConcurrent(t *testing.T) {
	const workers, each = 8, 2000
	var a rollout.ArmStats
	var wg sync.WaitGroup
	stop := make(chan struct{})
	bad := make(chan rollout.StatsSnapshot, 1)
	go func() {
		for {
			select {
			case <-stop:
				close(bad)
				return
			default:
			}
			if s := a.Snapshot(); s.Errors > s.Requests {
				select {
				case bad <- s:
				default:
				}
			}
		}
	}()
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if i%4 == 0 {
					a.RecordError(testEnd, time.Duration(w+1)*time.Millisecond)
				} else {
					a.RecordSuccess(testEnd, time.Duration(i)*time.Microsecond, 0.5)
				}
				a.RecordScore(float64(i%20) / 20)
			}
		})
	}
	wg.Wait()
	close(stop)
	if s, ok := <-bad; ok {
		t.Errorf("a snapshot showed %d errors in %d requests", s.Errors, s.Requests)
	}
	s := a.Snapshot()
	if s.Requests != workers*each || s.Errors != workers*each/4 || s.Latency.Total() != workers*each || s.Scores.Total() != workers*each {
		t.Fatalf("after %d records: %d requests, %d errors, %d latencies, %d scores", workers*each,
			s.Requests, s.Errors, s.Latency.Total(), s.Scores.Total())
	}
	for i, c := range s.Scores {
		if c != workers*each/rollout.ScoreBuckets {
			t.Fatalf("score bucket %d counts %d; want %d", i, c, workers*each/rollout.ScoreBuckets)
		}
	}
}
