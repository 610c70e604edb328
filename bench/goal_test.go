package bench

import (
	"math"
	"testing"
	"time"
)

// phase makes a phase whose result has the given throughput and median;
// a zero for either means no successful request.
func phase(server, model string, maxBatch, conns int, rps float64, p50 time.Duration) Phase {
	r := &Result{Connections: conns, RequestsPerSec: rps, RowsPerSec: rps, OK: 1, Latency: Latency{Count: 1, P50: p50}}
	if rps == 0 || p50 == 0 {
		r.RequestsPerSec, r.RowsPerSec = 0, 0
		r.OK, r.Latency = 0, Latency{}
	}
	return Phase{Server: server, Model: model, MaxBatchSize: maxBatch, Result: r}
}

func TestJudge(t *testing.T) {
	f := func(floor64, small64, heavyOn, heavyOff, best float64, floorP50, smallP50 time.Duration, want []Goal) {
		t.Helper()
		rep := &Report{
			Connections: 64,
			Phases: []Phase{
				phase(ServerFloor, "", 0, 64, floor64, time.Millisecond),
				phase(ServerFloor, "", 0, 1, 30000, floorP50),
				phase(ServerSwitchyard, SmallModel, 1, 64, 1, time.Millisecond),
				phase(ServerSwitchyard, HeavyModel, 1, 64, heavyOff, time.Millisecond),
				phase(ServerSwitchyard, SmallModel, MaxBatchSize, 64, small64, time.Millisecond),
				phase(ServerSwitchyard, SmallModel, MaxBatchSize, 1, 20000, smallP50),
				phase(ServerSwitchyard, HeavyModel, MaxBatchSize, 64, heavyOn, time.Millisecond),
			},
			InProcess: []*InProcessResult{{Model: SmallModel, Best: BatchResult{RowsPerSec: 1e7}}, {Model: HeavyModel, Best: BatchResult{RowsPerSec: best}}},
		}
		got := judge(rep)
		if len(got) != len(want) {
			t.Fatalf("judge = %d goals; want %d", len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if math.Abs(g.Value-w.Value) > 1e-9 || g.Pass != w.Pass || g.Missing != w.Missing || g.Op != w.Op || g.Target != w.Target {
				t.Errorf("goal %d (%s) = %+v; want value %v pass %v missing %v, %s %v", i, g.Name, g, w.Value, w.Pass, w.Missing, w.Op, w.Target)
			}
		}
	}
	// Every goal met.
	f(50000, 45000, 19000, 5000, 20000, 40*time.Microsecond, 120*time.Microsecond, []Goal{
		{Value: 0.9, Op: ">=", Target: 0.8, Pass: true},
		{Value: 0.95, Op: ">=", Target: 0.9, Pass: true},
		{Value: 80, Op: "<=", Target: 100, Pass: true},
		{Value: 3.8, Op: ">=", Target: 2, Pass: true},
	})
	// Every goal missed; exactly on the target passes.
	f(50000, 40000, 18000, 9001, 20000, 40*time.Microsecond, 141*time.Microsecond, []Goal{
		{Value: 0.8, Op: ">=", Target: 0.8, Pass: true},
		{Value: 0.9, Op: ">=", Target: 0.9, Pass: true},
		{Value: 101, Op: "<=", Target: 100, Pass: false},
		{Value: 18000.0 / 9001, Op: ">=", Target: 2, Pass: false},
	})
	f(50000, 10000, 9000, 9000, 20000, 40*time.Microsecond, 140*time.Microsecond, []Goal{
		{Value: 0.2, Op: ">=", Target: 0.8, Pass: false},
		{Value: 0.45, Op: ">=", Target: 0.9, Pass: false},
		{Value: 100, Op: "<=", Target: 100, Pass: true},
		{Value: 1, Op: ">=", Target: 2, Pass: false},
	})
	// A server that answered nothing successfully misses, whatever the
	// arithmetic would say.
	f(50000, 0, 0, 9000, 20000, 40*time.Microsecond, 0, []Goal{
		{Op: ">=", Target: 0.8, Missing: true},
		{Op: ">=", Target: 0.9, Missing: true},
		{Op: "<=", Target: 100, Missing: true},
		{Op: ">=", Target: 2, Missing: true},
	})
}
