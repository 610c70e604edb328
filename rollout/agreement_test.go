package rollout_test

import (
	"math"
	"testing"

	"github.com/switchyard-ml/switchyard/rollout"
)

func TestAgreementStats(t *testing.T) {
	var g rollout.AgreementStats
	if s := g.Snapshot(); s != (rollout.Agreement{}) || s.Rate() != 0 || s.MeanAbsScoreDiff() != 0 {
		t.Fatalf("zero AgreementStats = %+v, rate %v, mean diff %v; want zeros", s, s.Rate(), s.MeanAbsScoreDiff())
	}
	for range 9 {
		g.RecordMatch(0.1)
	}
	g.RecordMismatch(-0.5) // the absolute difference counts
	before := g.Snapshot()
	if before.Compared != 10 || before.Same != 9 || before.Rate() != 0.9 || math.Abs(before.MeanAbsScoreDiff()-0.14) > 1e-9 {
		t.Fatalf("after 9 matches and a mismatch: %+v, rate %v, mean diff %v; want 10, 9, 0.9, 0.14",
			before, before.Rate(), before.MeanAbsScoreDiff())
	}
	g.RecordMismatch(math.NaN()) // counts as the largest difference, 1
	g.RecordMismatch(5)          // clamped to 1
	d := g.Snapshot().Sub(before)
	if d.Compared != 2 || d.Same != 0 || math.Abs(d.AbsScoreDiff-2) > 1e-9 {
		t.Fatalf("Sub = %+v; want 2 compared, 0 same, difference 2", d)
	}
	if back := before.Sub(g.Snapshot()); back != (rollout.Agreement{}) {
		t.Fatalf("Sub in the wrong order = %+v; want zeros", back)
	}
	var none *rollout.AgreementStats
	none.RecordMatch(0)
	none.RecordMismatch(1)
	if s := none.Snapshot(); s != (rollout.Agreement{}) {
		t.Fatalf("nil AgreementStats = %+v; want zeros", s)
	}
}
