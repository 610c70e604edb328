//go:build !race

package rollout_test

import (
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/rollout"
)

// TestRecordAllocatesNothing pins the request path's promise: recording
// into ArmStats and AgreementStats allocates nothing.
func TestRecordAllocatesNothing(t *testing.T) {
	var a rollout.ArmStats
	var g rollout.AgreementStats
	d := 3 * time.Millisecond
	allocs := testing.AllocsPerRun(1000, func() {
		a.RecordSuccess(testEnd, d, 0.5)
		a.RecordError(testEnd, d)
		a.RecordScore(0.42)
		g.RecordMatch(0.01)
		g.RecordMismatch(0.4)
	})
	if allocs != 0 {
		t.Fatalf("recording allocates %v times per run; want 0", allocs)
	}
}
