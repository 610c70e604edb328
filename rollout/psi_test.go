package rollout_test

import (
	"math"
	"testing"

	"github.com/switchyard-ml/switchyard/rollout"
)

// hist returns a score histogram with the given counts in the given
// buckets: hist(4, 50, 16, 50) has 50 in bucket 4 and 50 in bucket 16.
func hist(bucketCounts ...uint64) rollout.ScoreHistogram {
	var h rollout.ScoreHistogram
	for i := 0; i+1 < len(bucketCounts); i += 2 {
		h[bucketCounts[i]] = bucketCounts[i+1]
	}
	return h
}

// TestPSI checks PSI against values worked by hand.
func TestPSI(t *testing.T) {
	f := func(expected, actual rollout.ScoreHistogram, want float64) {
		t.Helper()
		got := rollout.PSI(expected, actual)
		if math.IsNaN(got) || math.Abs(got-want) > 1e-12 {
			t.Errorf("PSI(%v, %v) = %.15f; want %.15f", expected, actual, got, want)
		}
		if back := rollout.PSI(actual, expected); math.Abs(back-got) > 1e-12 {
			t.Errorf("PSI is not symmetric: %v one way, %v the other", got, back)
		}
	}
	// Identical shares, whatever the totals: 0.
	f(hist(4, 50, 16, 50), hist(4, 300, 16, 300), 0)
	// 0.5/0.5 against 0.25/0.75: (0.25−0.5)·ln(0.25/0.5) + (0.75−0.5)·ln(0.75/0.5)
	// = 0.25·ln 2 + 0.25·ln 1.5 = 0.173287 + 0.101366.
	f(hist(4, 50, 16, 50), hist(4, 25, 16, 75), 0.25*math.Ln2+0.25*math.Log(1.5))
	f(hist(4, 50, 16, 50), hist(4, 25, 16, 75), 0.274653072167027)
	// An empty bucket counts as 1e-4: 1.0/0 against 0.5/0.5 gives
	// (0.5−1)·ln 0.5 + (0.5−0.0001)·ln(0.5/0.0001) = 0.346574 + 4.257746.
	f(hist(0, 10), hist(0, 5, 1, 5), 0.5*math.Ln2+0.4999*math.Log(5000))
	f(hist(0, 10), hist(0, 5, 1, 5), 4.60431846666895)
	// Disjoint: 2·(1−0.0001)·ln(1/0.0001).
	f(hist(0, 7), hist(19, 9), 2*0.9999*math.Log(1e4))
	// Empty histograms: no evidence, 0 and never NaN.
	f(hist(), hist(), 0)
	f(hist(), hist(3, 100), 0)
	f(hist(3, 100), hist(), 0)
}
