//go:build !race

package modelstore

import (
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
)

func TestRecordAllocatesNothing(t *testing.T) {
	v := newVersion("m", 1, "", &liveSettings{})
	v.score = scoreRuleOf(&engine.Signature{Outputs: []engine.TensorInfo{{Name: "p", DType: engine.FP32, Shape: []int64{-1, 2}}}})
	out := []engine.Tensor{fp32([]int64{4, 2}, 0.1, 0.9, 0.3, 0.7, 0.5, 0.5, 0.8, 0.2)}
	end := time.Now()
	if n := testing.AllocsPerRun(100, func() { v.RecordSuccess(end, time.Millisecond, out) }); n != 0 {
		t.Fatalf("RecordSuccess allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { v.RecordError(end, time.Millisecond) }); n != 0 {
		t.Fatalf("RecordError allocates %v times", n)
	}
}
