package bench

import (
	"slices"
	"testing"
)

func TestRoundRatios(t *testing.T) {
	rps := func(v ...float64) []RoundPhase {
		out := make([]RoundPhase, len(v))
		for i, x := range v {
			out[i] = RoundPhase{Round: i/2 + 1, Result: &Result{RequestsPerSec: x}}
		}
		return out
	}
	for _, c := range []struct {
		phases []RoundPhase
		all    []float64
		median float64
	}{
		{nil, nil, 0},
		{rps(100, 50), []float64{0.5}, 0.5},
		{rps(100, 50, 100, 0, 100, 90, 100, 80, 10), []float64{0.5, 0, 0.9, 0.8}, 0.8}, // a zero round is left out; the odd phase too
		{rps(100, 50, 100, 90), []float64{0.5, 0.9}, 0.5},                              // an even count: the lower middle one
		{rps(0, 50), []float64{0}, 0},
	} {
		all, median := roundRatios(c.phases, requestsPerSec)
		if !slices.Equal(all, c.all) || median != c.median {
			t.Errorf("roundRatios(%v) = %v, %v; want %v, %v", c.phases, all, median, c.all, c.median)
		}
	}
}
