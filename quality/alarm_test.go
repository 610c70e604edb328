package quality_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/quality"
)

func TestCheckDropSuccess(t *testing.T) {
	f := func(ref, value, bound float64, detected bool) {
		t.Helper()
		d, err := quality.CheckDrop(ref, value, bound)
		if err != nil {
			t.Fatalf("CheckDrop: %v", err)
		}
		if d.Detected != detected || !near(d.Drop, ref-value) {
			t.Fatalf("CheckDrop(%v, %v, %v) = %+v, want detected %v", ref, value, bound, d, detected)
		}
		word := "within"
		if detected {
			word = "beyond"
		}
		if !strings.Contains(d.String(), word) {
			t.Fatalf("String %q does not say %q", d.String(), word)
		}
	}
	f(0.90, 0.88, 0.02, false) // exactly the bound: allowed
	f(0.90, 0.879, 0.02, true)
	f(0.90, 0.95, 0.02, false) // better than the reference
	f(0.90, 0.90, 0, false)
	f(0.90, 0.8999, 0, true)
}

func TestCheckDropFailure(t *testing.T) {
	f := func(ref, value, bound float64) {
		t.Helper()
		if _, err := quality.CheckDrop(ref, value, bound); !errors.Is(err, quality.ErrBound) {
			t.Fatalf("CheckDrop(%v, %v, %v): %v, want ErrBound", ref, value, bound, err)
		}
	}
	f(0.9, 0.8, -0.1)
	f(0.9, 0.8, 1.5)
	f(0.9, 0.8, math.NaN())
	f(math.NaN(), 0.8, 0.02)
	f(0.9, math.NaN(), 0.02)
}
