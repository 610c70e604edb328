package modelstore

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
)

// scoreRule says where a version's score lies in its outputs, for the
// rollout controller's score histograms (rollout.ArmStats.RecordScore):
//
//   - a float output of shape [rows, 2]: the second column, the positive
//     class's probability of a binary classifier;
//   - a float output of shape [rows, k > 2]: the predicted class (the
//     column with the largest value) scaled into [0, 1] as class/(k-1);
//   - a float output of shape [rows] or [rows, 1]: the value itself (a
//     regressor's; values outside [0, 1] count at the nearest end);
//   - otherwise an INT64 output of shape [rows]: the label, likewise.
//
// The first float output that fits decides; a model with none records no
// scores.
type scoreRule struct {
	output int // index into the outputs; -1 when the model has no score
	width  int // columns per row: 1 for a value, 2 for binary, k for multiclass
}

func scoreRuleOf(sig *engine.Signature) scoreRule {
	label := scoreRule{output: -1}
	for i, o := range sig.Outputs {
		float := o.DType == engine.FP32 || o.DType == engine.FP64
		switch {
		case float && len(o.Shape) == 1:
			return scoreRule{output: i, width: 1}
		case float && len(o.Shape) == 2 && o.Shape[1] >= 1:
			return scoreRule{output: i, width: int(o.Shape[1])}
		case o.DType == engine.INT64 && len(o.Shape) == 1 && label.output < 0:
			label = scoreRule{output: i, width: 1}
		}
	}
	return label
}

// Score returns the score of the first row of out, as RecordScores reads
// it, and whether there is one.
func (v *Version) Score(out []engine.Tensor) (float64, bool) {
	var score float64
	ok := false
	v.eachScore(out, func(s float64) bool { score, ok = s, true; return false })
	return score, ok
}

// ScoreClasses is how many classes the version's score tells apart: 2
// for a binary classifier, k for a multiclass one, 0 for a value.
func (v *Version) ScoreClasses() int {
	if v.score.output < 0 || v.score.width == 1 {
		return 0
	}
	return v.score.width
}

// RecordSuccess records a request this version answered, for the
// rollout controller: when it ended, its latency, and out, its outputs,
// whose rows' scores go to the score histogram and whose first row's
// score goes with the request's sample (rollout.ArmStats.Samples). It
// allocates nothing; safe for concurrent use.
func (v *Version) RecordSuccess(end time.Time, latency time.Duration, out []engine.Tensor) {
	first := math.NaN()
	v.eachScore(out, func(s float64) bool {
		if first != first {
			first = s
		}
		v.Stats.RecordScore(s)
		return true
	})
	v.Stats.RecordSuccess(end, latency, first)
}

// RecordError records a request that failed on this version by the
// model's or the server's fault (not the client's): when it ended, and
// its latency. Safe for concurrent use.
func (v *Version) RecordError(end time.Time, latency time.Duration) {
	v.Stats.RecordError(end, latency)
}

// EachScore calls fn with the score of each row of out, by the rule
// RecordSuccess follows, while fn returns true; for the drift monitor. It
// allocates nothing; safe for concurrent use.
func (v *Version) EachScore(out []engine.Tensor, fn func(float64) bool) { v.eachScore(out, fn) }

// eachScore calls fn with the score of each row of out, while fn returns
// true.
func (v *Version) eachScore(out []engine.Tensor, fn func(float64) bool) {
	r := v.score
	if r.output < 0 || r.output >= len(out) {
		return
	}
	t := &out[r.output]
	size := t.DType.Size()
	if size == 0 || r.width <= 0 {
		return
	}
	n := len(t.Data) / size
	if n%r.width != 0 {
		return
	}
	at := func(i int) float64 {
		b := t.Data[i*size:]
		switch t.DType {
		case engine.FP32:
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		case engine.FP64:
			return math.Float64frombits(binary.LittleEndian.Uint64(b))
		case engine.INT64:
			return float64(int64(binary.LittleEndian.Uint64(b)))
		}
		return math.NaN()
	}
	for row := 0; row < n/r.width; row++ {
		base := row * r.width
		var s float64
		switch {
		case r.width == 1:
			s = at(base)
		case r.width == 2:
			s = at(base + 1)
		default:
			best := 0
			for j := 1; j < r.width; j++ {
				if at(base+j) > at(base+best) {
					best = j
				}
			}
			s = float64(best) / float64(r.width-1)
		}
		if !fn(s) {
			return
		}
	}
}
