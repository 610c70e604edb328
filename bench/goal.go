package bench

import (
	"fmt"
	"time"
)

// Goal is one target of the issue, judged against a comparison's
// measurements.
type Goal struct {
	// Name says what is compared, such as "small: batch≤256 req/s ÷ floor
	// req/s, 64 conns".
	Name string `json:"name"`
	// Value is the measured ratio or difference.
	Value float64 `json:"value"`
	// Op is ">=" or "<=": how Value must compare with Target.
	Op string `json:"op"`
	// Target is the threshold.
	Target float64 `json:"target"`
	// Unit is Value's and Target's unit; empty for a plain ratio.
	Unit string `json:"unit,omitempty"`
	// Pass reports whether Value meets Target. A goal whose measurements
	// had no successful request does not pass.
	Pass bool `json:"pass"`
	// Missing is set when a measurement the goal needs had no successful
	// request (or was not taken), which makes Value meaningless.
	Missing bool `json:"missing,omitempty"`
}

// newGoal judges value against target. ok is false when a measurement
// behind value is missing.
func newGoal(name string, value float64, op string, target float64, unit string, ok bool) Goal {
	g := Goal{Name: name, Value: value, Op: op, Target: target, Unit: unit, Missing: !ok}
	if !ok {
		g.Value = 0 // JSON has no NaN
		return g
	}
	switch op {
	case ">=":
		g.Pass = value >= target
	case "<=":
		g.Pass = value <= target
	default:
		panic("BUG: bench: goal operator " + op)
	}
	return g
}

// Ratio is a comparison the report shows beside the goals, with no
// target: it says where the time goes.
type Ratio struct {
	// Name says what is compared.
	Name string `json:"name"`
	// Value is the ratio; 0 when Missing.
	Value float64 `json:"value"`
	// Missing is set when a measurement behind the ratio had no
	// successful request (or was not taken).
	Missing bool `json:"missing,omitempty"`
}

// judge computes the goals from a comparison's measurements:
//
//   - the small model over many connections with batching on reaches 80%
//     of the floor's requests per second;
//   - the heavy model with batching on reaches 90% of onnxruntime's best
//     in-process rows per second, with requests of BinaryRows rows in the
//     binary tensor data extension;
//   - over one connection, switchyard (small model, batching on) adds at
//     most 100 µs to the floor's median latency;
//   - batching at least doubles the heavy model's rows per second over
//     many connections, with one-row JSON requests.
//
// The ratios beside them split the small model's cost between HTTP,
// onnxruntime and switchyard, and give the heavy model's one-row JSON
// requests against onnxruntime's best.
func judge(rep *Report) ([]Goal, []Ratio) {
	n := rep.Connections
	floorMany := rep.find(Phase{Server: ServerFloor}, n)
	floorOne := rep.find(Phase{Server: ServerFloor}, 1)
	floorModel := rep.find(Phase{Server: ServerFloorModel, Model: SmallModel}, n)
	on := Phase{Server: ServerSwitchyard, MaxBatchSize: MaxBatchSize}
	off := Phase{Server: ServerSwitchyard, MaxBatchSize: 1}
	small, heavy := on, on
	small.Model, heavy.Model = SmallModel, HeavyModel
	heavyBinary := heavy
	heavyBinary.Binary = true
	heavyOff := off
	heavyOff.Model = HeavyModel
	smallMany, smallOne := rep.find(small, n), rep.find(small, 1)
	heavyOn, heavyBinaryOn := rep.find(heavy, n), rep.find(heavyBinary, n)
	var best float64
	for _, ip := range rep.InProcess {
		if ip.Model == HeavyModel {
			best = ip.Best.RowsPerSec
		}
	}
	var goals []Goal
	v, ok := ratio(rate(smallMany), rate(floorMany))
	goals = append(goals, newGoal(fmt.Sprintf("small: batch≤%d req/s ÷ floor req/s, %d conns", MaxBatchSize, n), v, ">=", 0.8, "", ok))
	v, ok = ratio(rows(heavyBinaryOn), best)
	goals = append(goals, newGoal(fmt.Sprintf("heavy: batch≤%d rows/s ÷ in-process best, %d conns, %d-row binary", MaxBatchSize, n, BinaryRows), v, ">=", 0.9, "", ok))
	ok = smallOne != nil && floorOne != nil && smallOne.Latency.Count > 0 && floorOne.Latency.Count > 0
	v = 0
	if ok {
		v = float64(smallOne.Latency.P50-floorOne.Latency.P50) / float64(time.Microsecond)
	}
	goals = append(goals, newGoal(fmt.Sprintf("small: batch≤%d p50 − floor p50, 1 conn", MaxBatchSize), v, "<=", 100, "µs", ok))
	v, ok = ratio(rows(heavyOn), rows(rep.find(heavyOff, n)))
	goals = append(goals, newGoal(fmt.Sprintf("heavy: batch≤%d rows/s ÷ batching-off rows/s, %d conns", MaxBatchSize, n), v, ">=", 2, "", ok))

	var ratios []Ratio
	add := func(name string, a, b float64) {
		v, ok := ratio(a, b)
		ratios = append(ratios, Ratio{Name: name, Value: v, Missing: !ok})
	}
	add(fmt.Sprintf("small: floor+onnxruntime req/s ÷ floor req/s, %d conns", n), rate(floorModel), rate(floorMany))
	add(fmt.Sprintf("small: batch≤%d req/s ÷ floor+onnxruntime req/s, %d conns", MaxBatchSize, n), rate(smallMany), rate(floorModel))
	add(fmt.Sprintf("heavy: batch≤%d rows/s ÷ in-process best, %d conns, 1-row JSON", MaxBatchSize, n), rows(heavyOn), best)
	heavyBinaryOff := heavyOff
	heavyBinaryOff.Binary = true
	add(fmt.Sprintf("heavy: batch≤%d rows/s ÷ batching-off rows/s, %d conns, %d-row binary", MaxBatchSize, n, BinaryRows),
		rows(heavyBinaryOn), rows(rep.find(heavyBinaryOff, n)))
	return goals, ratios
}

// find returns the result of the phase like want (its server, model,
// --max-batch-size and encoding) with the given connections, or nil.
func (r *Report) find(want Phase, conns int) *Result {
	for i := range r.Phases {
		p := &r.Phases[i]
		if p.Server == want.Server && p.Model == want.Model && p.MaxBatchSize == want.MaxBatchSize && p.Binary == want.Binary &&
			p.Result != nil && p.Result.Connections == conns {
			return p.Result
		}
	}
	return nil
}

func rate(r *Result) float64 {
	if r == nil {
		return 0
	}
	return r.RequestsPerSec
}

func rows(r *Result) float64 {
	if r == nil {
		return 0
	}
	return r.RowsPerSec
}

// ratio returns a/b, and false when either is not positive.
func ratio(a, b float64) (float64, bool) {
	if a <= 0 || b <= 0 {
		return 0, false
	}
	return a / b, true
}
