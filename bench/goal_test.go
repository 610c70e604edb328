package bench

import (
	"math"
	"slices"
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

func TestMedians(t *testing.T) {
	round := func(floor, heavy, best float64) *Report {
		return &Report{
			Phases: []Phase{
				phase(ServerFloor, "", 0, 64, floor, time.Duration(floor)),
				phase(ServerSwitchyard, HeavyModel, MaxBatchSize, 64, heavy, time.Duration(heavy)),
			},
			InProcess: []*InProcessResult{{Model: HeavyModel, Best: BatchResult{BatchSize: int(best), RowsPerSec: best}}},
		}
	}
	phases, inproc := medians([]*Report{round(300, 20, 90), round(100, 30, 70), round(200, 10, 80)})
	if len(phases) != 2 || len(inproc) != 1 {
		t.Fatalf("medians = %d phases, %d in-process; want 2, 1", len(phases), len(inproc))
	}
	// Each phase is its median round, whole: its latency comes with it.
	if r := phases[0].Result; r.RowsPerSec != 200 || r.Latency.P50 != 200 || !slices.Equal(phases[0].RoundRowsPerSec, []float64{300, 100, 200}) {
		t.Errorf("floor = %v rows/s, p50 %v, rounds %v; want 200, 200, [300 100 200]", r.RowsPerSec, r.Latency.P50, phases[0].RoundRowsPerSec)
	}
	if r := phases[1].Result; r.RowsPerSec != 20 || phases[1].Model != HeavyModel || !slices.Equal(phases[1].RoundRowsPerSec, []float64{20, 30, 10}) {
		t.Errorf("heavy = %v rows/s, model %q, rounds %v; want 20, heavy, [20 30 10]", r.RowsPerSec, phases[1].Model, phases[1].RoundRowsPerSec)
	}
	if ip := inproc[0]; ip.Best.RowsPerSec != 80 || ip.Best.BatchSize != 80 || !slices.Equal(ip.RoundBest, []float64{90, 70, 80}) {
		t.Errorf("in-process = best %v at %d, rounds %v; want 80 at 80, [90 70 80]", ip.Best.RowsPerSec, ip.Best.BatchSize, ip.RoundBest)
	}
	// Two rounds: the lower one.
	phases, _ = medians([]*Report{round(300, 20, 90), round(100, 30, 70)})
	if phases[0].Result.RowsPerSec != 100 || phases[1].Result.RowsPerSec != 20 {
		t.Errorf("two rounds: floor %v, heavy %v; want the lower of each, 100 and 20", phases[0].Result.RowsPerSec, phases[1].Result.RowsPerSec)
	}
}
