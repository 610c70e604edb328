package gate

import (
	"math"
	"testing"
)

func TestNums(t *testing.T) {
	f := func(a, b float64, wantA, wantB string) {
		t.Helper()
		if gotA, gotB := nums(a, b); gotA != wantA || gotB != wantB {
			t.Fatalf("nums(%v, %v) = %q, %q; want %q, %q", a, b, gotA, gotB, wantA, wantB)
		}
	}
	f(0.81234, 0.84567, "0.8123", "0.8457")
	f(0.81231, 0.81234, "0.81231", "0.81234") // four digits would read the same
	f(0.5, 0.5, "0.5", "0.5")
	f(1/3.0, 1/3.0+1e-15, "0.3333333333", "0.3333333333") // at most ten digits
	f(123456.7, 0.25, "123457", "0.25")                   // counts and rates in plain notation
	f(math.NaN(), 2, "undefined", "2")
	f(math.Inf(1), 0.00001234, "+Inf", "1.234e-05")
}

func TestNearestRank(t *testing.T) {
	f := func(sorted []float64, q, want float64) {
		t.Helper()
		if got := nearestRank(sorted, q); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("nearestRank(%v, %v) = %v; want %v", sorted, q, got, want)
		}
	}
	f([]float64{1, 2, 3, 4}, 0.5, 2) // rank ⌈0.5·4⌉ = 2
	f([]float64{1, 2, 3, 4, 5}, 0.5, 3)
	f([]float64{1, 2, 3, 4}, 0.99, 4)
	f([]float64{7}, 0.5, 7)
	f([]float64{7}, 0.99, 7)
	f(nil, 0.5, math.NaN())
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	f(hundred, 0.99, 99) // rank 99, not interpolated towards 100
	f(hundred, 0.5, 50)
}

func TestBounds(t *testing.T) {
	// Equal on paper, off by rounding: not beyond the bound.
	if above(0.85-0.84, 0.01) || below(0.1+0.2, 0.3) {
		t.Fatal("a value equal to its bound but for rounding is beyond it")
	}
	if !above(0.0101, 0.01) || !below(0.2999, 0.3) || !above(1e6+1, 1e6) {
		t.Fatal("a value beyond its bound is not")
	}
}
