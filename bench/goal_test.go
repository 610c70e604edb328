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

// measured is what TestJudge's report holds: requests (or rows) per
// second of each phase it needs, and two medians.
type measured struct {
	floor, floorModel, small, heavyOn, heavyOff, heavyBinary, heavyBinaryOff, best float64
	floorP50, smallP50                                                             time.Duration
}

func (m measured) report() *Report {
	binary := func(p Phase) Phase { p.Binary = true; return p }
	return &Report{
		Connections: 64,
		Phases: []Phase{
			phase(ServerFloor, "", 0, 64, m.floor, time.Millisecond),
			phase(ServerFloor, "", 0, 1, 30000, m.floorP50),
			phase(ServerFloorModel, SmallModel, 0, 64, m.floorModel, time.Millisecond),
			phase(ServerSwitchyard, SmallModel, 1, 64, 1, time.Millisecond),
			phase(ServerSwitchyard, HeavyModel, 1, 64, m.heavyOff, time.Millisecond),
			binary(phase(ServerSwitchyard, HeavyModel, 1, 64, m.heavyBinaryOff, time.Millisecond)),
			phase(ServerSwitchyard, SmallModel, MaxBatchSize, 64, m.small, time.Millisecond),
			phase(ServerSwitchyard, SmallModel, MaxBatchSize, 1, 20000, m.smallP50),
			phase(ServerSwitchyard, HeavyModel, MaxBatchSize, 64, m.heavyOn, time.Millisecond),
			binary(phase(ServerSwitchyard, HeavyModel, MaxBatchSize, 64, m.heavyBinary, time.Millisecond)),
		},
		InProcess: []*InProcessResult{{Model: SmallModel, Best: BatchResult{RowsPerSec: 1e7}}, {Model: HeavyModel, Best: BatchResult{RowsPerSec: m.best}}},
	}
}

func TestJudge(t *testing.T) {
	f := func(m measured, want []Goal, wantRatios []Ratio) {
		t.Helper()
		got, ratios := judge(m.report())
		if len(got) != len(want) || len(ratios) != len(wantRatios) {
			t.Fatalf("judge = %d goals, %d ratios; want %d, %d", len(got), len(ratios), len(want), len(wantRatios))
		}
		for i := range want {
			g, w := got[i], want[i]
			if math.Abs(g.Value-w.Value) > 1e-9 || g.Pass != w.Pass || g.Missing != w.Missing || g.Op != w.Op || g.Target != w.Target {
				t.Errorf("goal %d (%s) = %+v; want value %v pass %v missing %v, %s %v", i, g.Name, g, w.Value, w.Pass, w.Missing, w.Op, w.Target)
			}
		}
		for i := range wantRatios {
			r, w := ratios[i], wantRatios[i]
			if math.Abs(r.Value-w.Value) > 1e-9 || r.Missing != w.Missing {
				t.Errorf("ratio %d (%s) = %+v; want %+v", i, r.Name, r, w)
			}
		}
	}
	// Every goal met.
	f(measured{floor: 50000, floorModel: 48000, small: 45000, heavyOn: 19000, heavyOff: 5000, heavyBinary: 19500, heavyBinaryOff: 6500,
		best: 20000, floorP50: 40 * time.Microsecond, smallP50: 120 * time.Microsecond},
		[]Goal{
			{Value: 0.9, Op: ">=", Target: 0.8, Pass: true},
			{Value: 0.975, Op: ">=", Target: 0.9, Pass: true},
			{Value: 80, Op: "<=", Target: 100, Pass: true},
			{Value: 3.8, Op: ">=", Target: 2, Pass: true},
		},
		[]Ratio{{Value: 0.96}, {Value: 45000.0 / 48000}, {Value: 0.95}, {Value: 3}})
	// Exactly on the target passes; the heavy goals read the binary and
	// the JSON phases respectively.
	f(measured{floor: 50000, floorModel: 40000, small: 40000, heavyOn: 18000, heavyOff: 9001, heavyBinary: 18000, heavyBinaryOff: 18000,
		best: 20000, floorP50: 40 * time.Microsecond, smallP50: 141 * time.Microsecond},
		[]Goal{
			{Value: 0.8, Op: ">=", Target: 0.8, Pass: true},
			{Value: 0.9, Op: ">=", Target: 0.9, Pass: true},
			{Value: 101, Op: "<=", Target: 100, Pass: false},
			{Value: 18000.0 / 9001, Op: ">=", Target: 2, Pass: false},
		},
		[]Ratio{{Value: 0.8}, {Value: 1}, {Value: 0.9}, {Value: 1}})
	f(measured{floor: 50000, floorModel: 30000, small: 10000, heavyOn: 9000, heavyOff: 9000, heavyBinary: 17000, heavyBinaryOff: 1000,
		best: 20000, floorP50: 40 * time.Microsecond, smallP50: 140 * time.Microsecond},
		[]Goal{
			{Value: 0.2, Op: ">=", Target: 0.8, Pass: false},
			{Value: 0.85, Op: ">=", Target: 0.9, Pass: false},
			{Value: 100, Op: "<=", Target: 100, Pass: true},
			{Value: 1, Op: ">=", Target: 2, Pass: false},
		},
		[]Ratio{{Value: 0.6}, {Value: 1.0 / 3}, {Value: 0.45}, {Value: 17}})
	// A server that answered nothing successfully misses, whatever the
	// arithmetic would say.
	f(measured{floor: 50000, heavyOff: 9000, best: 20000, floorP50: 40 * time.Microsecond},
		[]Goal{
			{Op: ">=", Target: 0.8, Missing: true},
			{Op: ">=", Target: 0.9, Missing: true},
			{Op: "<=", Target: 100, Missing: true},
			{Op: ">=", Target: 2, Missing: true},
		},
		[]Ratio{{Missing: true}, {Missing: true}, {Missing: true}, {Missing: true}})
}
