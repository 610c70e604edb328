package rollout_test

import (
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/rollout"
)

// BenchmarkArmStatsRecord measures what the request path pays per request
// on a shared arm: a record and a score, from every core at once.
func BenchmarkArmStatsRecord(b *testing.B) {
	var a rollout.ArmStats
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := 1500 * time.Microsecond
		for pb.Next() {
			a.RecordSuccess(testEnd, d, 0.5)
			a.RecordScore(0.7)
		}
	})
}

func BenchmarkArmStatsSnapshot(b *testing.B) {
	var a rollout.ArmStats
	a.RecordSuccess(testEnd, time.Millisecond, 0.5)
	var sink rollout.StatsSnapshot
	b.ReportAllocs()
	for b.Loop() {
		sink = a.Snapshot()
	}
	_ = sink
}
