package modelstore

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
)

func fp32(shape []int64, vals ...float32) engine.Tensor {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return engine.Tensor{Name: "out", DType: engine.FP32, Shape: shape, Data: b}
}

func TestRecordScores(t *testing.T) {
	f := func(what string, outputs []engine.TensorInfo, out []engine.Tensor, wantBuckets map[int]uint64) {
		t.Helper()
		v := newVersion("m", 1, "", &liveSettings{})
		v.score = scoreRuleOf(&engine.Signature{Outputs: outputs})
		v.RecordSuccess(time.Now(), time.Millisecond, out)
		got := v.Stats.Snapshot().Scores
		for i, n := range got {
			if n != wantBuckets[i] {
				t.Errorf("%s: bucket %d holds %d; want %d (all: %v)", what, i, n, wantBuckets[i], got)
			}
		}
	}
	binary2 := []engine.TensorInfo{{Name: "label", DType: engine.INT64, Shape: []int64{-1}}, {Name: "probabilities", DType: engine.FP32, Shape: []int64{-1, 2}}}
	f("binary classifier: positive class", binary2, []engine.Tensor{{}, fp32([]int64{2, 2}, 0.9, 0.1, 0.2, 0.8)},
		map[int]uint64{2: 1, 16: 1})
	multi := []engine.TensorInfo{{Name: "scores", DType: engine.FP32, Shape: []int64{-1, 3}}}
	f("multiclass: predicted class scaled", multi, []engine.Tensor{fp32([]int64{2, 3}, 0.1, 0.7, 0.2, 0.1, 0.2, 0.7)},
		map[int]uint64{10: 1, 19: 1})
	regressor := []engine.TensorInfo{{Name: "y", DType: engine.FP32, Shape: []int64{-1}}}
	f("regressor: the value, clamped", regressor, []engine.Tensor{fp32([]int64{3}, 0.26, -4, 7)},
		map[int]uint64{5: 1, 0: 1, 19: 1})
	f("no float output: nothing", []engine.TensorInfo{{Name: "b", DType: engine.BOOL, Shape: []int64{-1}}},
		[]engine.Tensor{{DType: engine.BOOL, Shape: []int64{1}, Data: []byte{1}}}, nil)
}
