package quality_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/switchyard-ml/switchyard/quality"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

func TestFitSuccess(t *testing.T) {
	f := func(scores []float64, labels []int, thresholds, values []float64) {
		t.Helper()
		c, err := quality.Fit(scores, labels)
		if err != nil {
			t.Fatalf("Fit: %v", err)
		}
		if !slices.Equal(c.Thresholds, thresholds) {
			t.Fatalf("thresholds %v, want %v", c.Thresholds, thresholds)
		}
		if len(c.Values) != len(values) {
			t.Fatalf("values %v, want %v", c.Values, values)
		}
		for i := range values {
			if !near(c.Values[i], values[i]) {
				t.Fatalf("values %v, want %v", c.Values, values)
			}
		}
	}
	// Labels 0 1 0 1 1 0 at scores 1..6. PAV: 1,0 pools to .5,.5; then
	// 1,1,0 pools to 2/3 each, above .5 so it stays. Fitted:
	// 0, .5, .5, 2/3, 2/3, 2/3; score 5 is inside a flat run and dropped.
	f([]float64{6, 2, 3, 4, 5, 1}, []int{0, 1, 0, 1, 1, 0},
		[]float64{1, 2, 3, 4, 6}, []float64{0, .5, .5, 2.0 / 3, 2.0 / 3})
	// Ties merge first: score .1 has labels 1, 0 (mean .5, weight 2), score
	// .2 has 0; .5 > 0 pools to (2*.5 + 0)/3 = 1/3.
	f([]float64{.1, .1, .2}, []int{1, 0, 0}, []float64{.1, .2}, []float64{1.0 / 3, 1.0 / 3})
	// Already monotone: kept as is.
	f([]float64{.2, .4, .9}, []int{0, 0, 1}, []float64{.2, .4, .9}, []float64{0, 0, 1})
	// One row.
	f([]float64{.3}, []int{1}, []float64{.3}, []float64{1})
}

func TestFitFailure(t *testing.T) {
	f := func(scores []float64, labels []int) {
		t.Helper()
		c, err := quality.Fit(scores, labels)
		if !errors.Is(err, quality.ErrCalibration) || c != nil {
			t.Fatalf("Fit(%v, %v) = %v, %v; want ErrCalibration", scores, labels, c, err)
		}
	}
	f(nil, nil)
	f([]float64{.1}, []int{0, 1})
	f([]float64{.1, math.NaN()}, []int{0, 1})
	f([]float64{.1, math.Inf(1)}, []int{0, 1})
	f([]float64{.1, .2}, []int{0, 2})
}

func TestFitMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	scores, labels := make([]float64, 2000), make([]int, 2000)
	for i := range scores {
		scores[i] = math.Round(rng.Float64()*200) / 200 // ties on purpose
		if rng.Float64() < scores[i]*scores[i] {
			labels[i] = 1
		}
	}
	c, err := quality.Fit(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	prev := -1.0
	for x := -0.1; x <= 1.1; x += 0.001 {
		p := c.Apply(x)
		if p < prev || p < 0 || p > 1 {
			t.Fatalf("Apply(%v) = %v after %v: not monotone within [0, 1]", x, p, prev)
		}
		prev = p
	}
}

func TestApply(t *testing.T) {
	c := &quality.Calibration{Method: "isotonic", Thresholds: []float64{1, 2, 3, 4, 6}, Values: []float64{0, .5, .5, 2.0 / 3, 2.0 / 3}}
	f := func(x, want float64) {
		t.Helper()
		if got := c.Apply(x); !near(got, want) {
			t.Fatalf("Apply(%v) = %v, want %v", x, got, want)
		}
	}
	f(0, 0)           // clipped below
	f(1, 0)           // first threshold
	f(1.5, .25)       // halfway from 0 to .5
	f(2.5, .5)        // flat run
	f(3.5, .5+1.0/12) // halfway from .5 to 2/3
	f(5, 2.0/3)
	f(100, 2.0/3) // clipped above
	if !math.IsNaN(c.Apply(math.NaN())) {
		t.Fatal("Apply(NaN) is not NaN")
	}
}

func TestCalibrationRoundTrip(t *testing.T) {
	c, err := quality.Fit([]float64{6, 2, 3, 4, 5, 1}, []int{0, 1, 0, 1, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", quality.CalibrationFile)
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("Marshal:\n%s\nwant (%s):\n%s", data, golden, want)
	}
	back, err := quality.ParseCalibration(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []float64{0, 1.5, 3.5, 7} {
		if back.Apply(x) != c.Apply(x) {
			t.Fatalf("parsed Apply(%v) = %v, fitted %v", x, back.Apply(x), c.Apply(x))
		}
	}
}

func TestParseCalibrationFailure(t *testing.T) {
	f := func(data string) {
		t.Helper()
		c, err := quality.ParseCalibration([]byte(data))
		if !errors.Is(err, quality.ErrCalibration) || c != nil {
			t.Fatalf("ParseCalibration(%s) = %v, %v; want ErrCalibration", data, c, err)
		}
	}
	f(``)
	f(`not json`)
	f(`{"method":"isotonic","thresholds":[1],"values":[0.5],"extra":1}`)
	f(`{"method":"isotonic","thresholds":[1],"values":[0.5]} {}`)
	f(`{"method":"platt","thresholds":[1],"values":[0.5]}`)
	f(`{"method":"isotonic","thresholds":[],"values":[]}`)
	f(`{"method":"isotonic","thresholds":[1,2],"values":[0.5]}`)
	f(`{"method":"isotonic","thresholds":[2,1],"values":[0.1,0.5]}`)
	f(`{"method":"isotonic","thresholds":[1,1],"values":[0.1,0.5]}`)
	f(`{"method":"isotonic","thresholds":[1,2],"values":[0.5,0.1]}`)
	f(`{"method":"isotonic","thresholds":[1,2],"values":[0.5,1.5]}`)
	f(`{"method":"isotonic","thresholds":[1,2],"values":[-0.1,0.5]}`)
}
