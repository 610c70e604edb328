package drift

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// normals draws n values of N(mean, sd) from rng.
func normals(rng *rand.Rand, n int, mean, sd float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = mean + sd*rng.NormFloat64()
	}
	return xs
}

// categories draws n values from values with the given weights.
func categories(rng *rand.Rand, n int, values []string, weights []float64) []string {
	out := make([]string, n)
	for i := range out {
		u := rng.Float64()
		j := 0
		for ; j < len(weights)-1 && u >= weights[j]; j++ {
			u -= weights[j]
		}
		out[i] = values[j]
	}
	return out
}

var colours = []string{"red", "green", "blue", "amber"}

// dataset draws rows of three normal features a, b, c (b shifted by
// shiftB standard deviations) and a categorical colour.
func dataset(rng *rand.Rand, rows int, shiftB float64, colourWeights []float64) []Column {
	return []Column{
		{Name: "a", Kind: Numeric, Numbers: normals(rng, rows, 0, 1)},
		{Name: "b", Kind: Numeric, Numbers: normals(rng, rows, 10+2*shiftB, 2)},
		{Name: "c", Kind: Numeric, Numbers: normals(rng, rows, -5, 0.5)},
		{Name: "colour", Kind: Categorical, Categories: categories(rng, rows, colours, colourWeights)},
	}
}

var baseWeights = []float64{0.4, 0.3, 0.2, 0.1}

func compareAll(t *testing.T, p *Profile, current []Column) []Result {
	t.Helper()
	out := make([]Result, len(current))
	for i, c := range current {
		r, err := Compare(&p.Features[i], c, Override{})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		out[i] = r
	}
	return out
}

func TestCompareMeanShiftFlagsOnlyThatFeature(t *testing.T) {
	f := func(refRows, curRows int, wantTest Test) {
		t.Helper()
		rng := rand.New(rand.NewPCG(1, 2))
		p, err := BuildProfile(dataset(rng, refRows, 0, baseWeights), nil, ProfileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		results := compareAll(t, p, dataset(rng, curRows, 1.5, baseWeights))
		for _, r := range results {
			if r.Column != "colour" && r.Test != wantTest {
				t.Errorf("reference of %d rows: %s tested by %s, want %s", refRows, r.Column, r.Test, wantTest)
			}
			if r.Drifted != (r.Column == "b") {
				t.Errorf("reference of %d rows: %s drifted=%v (%s %g)", refRows, r.Column, r.Drifted, r.Test, r.Statistic)
			}
		}
		if share, drifted := DatasetDrift(results, DefaultDatasetShare); share != 0.25 || drifted {
			t.Errorf("dataset drift share %g, drifted %v; want 0.25, false", share, drifted)
		}
	}
	f(800, 500, KS)
	f(20000, 5000, Wasserstein)
}

// Evidently's chi-squared takes the reference shares as exact, so its
// false alarm rate on unshifted data exceeds 5% unless the window is
// small beside the reference (here 200 rows beside 1000: about 1 seed in
// 11 alarms on the unshifted window, which is only a sanity check).
func TestCompareCategoryChangeFlaggedByChiSquare(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 4))
	ref := Column{Name: "colour", Kind: Categorical, Categories: categories(rng, 1000, colours, baseWeights)}
	p, err := BuildProfile([]Column{ref}, nil, ProfileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	same := Column{Name: "colour", Kind: Categorical, Categories: categories(rng, 200, colours, baseWeights)}
	moved := Column{Name: "colour", Kind: Categorical, Categories: categories(rng, 200, colours, []float64{0.25, 0.3, 0.2, 0.25})}
	for _, tc := range []struct {
		cur  Column
		want bool
	}{{same, false}, {moved, true}} {
		r, err := Compare(&p.Features[0], tc.cur, Override{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Test != ChiSquare || r.Drifted != tc.want || r.PValue == nil {
			t.Errorf("got %s drifted=%v p=%v, want chisquare drifted=%v", r.Test, r.Drifted, r.PValue, tc.want)
		}
	}
}

// TestCompareNoFalseAlarmOver20Windows feeds 20 consecutive windows of the
// default size (5,000 rows) drawn like the reference (a training set of
// 20,000 rows, sampled to 5,000) and expects no alarm at the default
// thresholds. With a reference of at most 1000 rows the defaults are
// p-value tests that, by design, alarm on 5% of unshifted windows per
// column, so this property is one of the large-reference defaults.
func TestCompareNoFalseAlarmOver20Windows(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	p, err := BuildProfile(dataset(rng, 20000, 0, baseWeights), nil, ProfileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	worst := map[string]float64{}
	for w := range 20 {
		for _, r := range compareAll(t, p, dataset(rng, 5000, 0, baseWeights)) {
			if r.Drifted {
				t.Errorf("window %d: %s drifted (%s %g)", w, r.Column, r.Test, r.Statistic)
			}
			worst[r.Column] = math.Max(worst[r.Column], r.Statistic)
		}
	}
	t.Logf("largest statistics over 20 windows: %v", worst)
}

func TestCompareDefaultTest(t *testing.T) {
	f := func(refRows int, kind Kind, refValues, curValues []float64, want Test) {
		t.Helper()
		ref := Column{Name: "x", Kind: kind}
		cur := Column{Name: "x", Kind: kind}
		for i := range refRows {
			v := refValues[i%len(refValues)]
			ref.Numbers = append(ref.Numbers, v)
			ref.Categories = append(ref.Categories, fmt.Sprint(v))
		}
		for i := range 200 {
			v := curValues[i%len(curValues)]
			cur.Numbers = append(cur.Numbers, v)
			cur.Categories = append(cur.Categories, fmt.Sprint(v))
		}
		if kind == Numeric {
			ref.Categories, cur.Categories = nil, nil
		} else {
			ref.Numbers, cur.Numbers = nil, nil
		}
		p, err := BuildProfile([]Column{ref}, nil, ProfileOptions{SampleRows: 500})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Compare(&p.Features[0], cur, Override{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Test != want {
			t.Errorf("%d rows, %s, %v + %v: %s, want %s", refRows, kind, refValues, curValues, r.Test, want)
		}
		if r.Threshold != defaultThreshold(want) {
			t.Errorf("threshold %g, want %g", r.Threshold, defaultThreshold(want))
		}
	}
	six := []float64{1, 2, 3, 4, 5, 6}
	f(1000, Numeric, six, six, KS)
	f(1000, Numeric, []float64{1, 2, 3}, []float64{4, 5, 6}, KS) // 6 values together
	f(1000, Numeric, []float64{1, 2, 3}, []float64{3, 4, 5}, ChiSquare)
	f(1000, Numeric, []float64{1, 2}, []float64{1, 2}, ZTest)
	f(1000, Categorical, six, six, ChiSquare)
	f(1000, Categorical, []float64{1, 2}, []float64{3}, ChiSquare)
	f(1000, Categorical, []float64{1}, []float64{1, 2}, ZTest)
	f(1001, Numeric, six, six, Wasserstein)
	f(1001, Numeric, []float64{1, 2, 3}, []float64{3, 4, 5}, JensenShannon)
	f(1001, Categorical, six, six, JensenShannon)
	// The sample (500 rows) holds all 6 values of the 5,000 reference rows.
	f(5000, Numeric, six, []float64{1}, Wasserstein)
}

func TestCompareOverride(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	p, err := BuildProfile([]Column{{Name: "x", Kind: Numeric, Numbers: normals(rng, 500, 0, 1)}}, nil, ProfileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur := Column{Name: "x", Kind: Numeric, Numbers: normals(rng, 500, 0.2, 1)}
	r, err := Compare(&p.Features[0], cur, Override{Threshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if r.Test != KS || r.Threshold != 0.5 || r.Drifted != (*r.PValue <= 0.5) {
		t.Errorf("threshold only: %+v", r)
	}
	r, err = Compare(&p.Features[0], cur, Override{Test: PSI})
	if err != nil {
		t.Fatal(err)
	}
	if r.Test != PSI || r.Threshold != PSIModerate || r.PValue != nil {
		t.Errorf("test only: %+v", r)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("result does not encode: %v", err)
	}
}

func TestCompareSummaries(t *testing.T) {
	p, err := BuildProfile([]Column{
		{Name: "n", Kind: Numeric, Numbers: []float64{1, 2, 3, 4, 1, 2, 3, 4}},
		{Name: "c", Kind: Categorical, Categories: []string{"a", "b", "b", "c", "d", "e", "f", "f"}},
	}, nil, ProfileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Compare(&p.Features[0], Column{Name: "n", Kind: Numeric, Numbers: []float64{5, math.NaN(), 7}}, Override{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Reference.Rows != 8 || *r.Reference.Mean != 2.5 || math.Abs(*r.Reference.Std-math.Sqrt(10.0/7)) > 1e-12 {
		t.Errorf("reference summary %+v", r.Reference)
	}
	if r.Current.Rows != 2 || *r.Current.Mean != 6 || math.Abs(*r.Current.Std-math.Sqrt2) > 1e-12 {
		t.Errorf("current summary %+v", r.Current)
	}
	r, err = Compare(&p.Features[1], Column{Name: "c", Kind: Categorical, Categories: []string{"z"}}, Override{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"b": 0.25, "f": 0.25, "a": 0.125, "c": 0.125, "d": 0.125}
	if fmt.Sprint(r.Reference.Top) != fmt.Sprint(want) || r.Current.Std != nil {
		t.Errorf("reference top %v, want %v", r.Reference.Top, want)
	}
	if fmt.Sprint(r.Current.Top) != "map[z:1]" || r.Current.Rows != 1 {
		t.Errorf("current summary %+v", r.Current)
	}
	// A value the reference never had: chi-squared is infinite, p is 0,
	// and the result still encodes.
	if r.Test != ChiSquare || *r.PValue != 0 || !r.Drifted || r.Statistic != math.MaxFloat64 {
		t.Errorf("unseen value: %+v", r)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("result does not encode: %v", err)
	}
}

func TestCompareFailure(t *testing.T) {
	p, err := BuildProfile([]Column{
		{Name: "n", Kind: Numeric, Numbers: []float64{1, 2, 3}},
		{Name: "c", Kind: Categorical, Categories: []string{"a", "b", "a"}},
	}, nil, ProfileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	num, cat := &p.Features[0], &p.Features[1]
	f := func(ref *ColumnProfile, cur Column, o Override, want error, text string) {
		t.Helper()
		_, err := Compare(ref, cur, o)
		if !errors.Is(err, want) || !strings.Contains(fmt.Sprint(err), text) {
			t.Errorf("got %v, want %v with %q", err, want, text)
		}
	}
	n := Column{Name: "n", Kind: Numeric, Numbers: []float64{1}}
	c := Column{Name: "c", Kind: Categorical, Categories: []string{"a"}}
	f(nil, n, Override{}, ErrCompare, `"n" has no reference`)
	f(num, c, Override{}, ErrCompare, `"c" is categorical, its reference numeric`)
	f(num, n, Override{Test: "anderson"}, ErrTest, `"anderson" for column "n"`)
	f(num, n, Override{Threshold: -1}, ErrTest, "threshold -1")
	f(num, n, Override{Threshold: math.NaN()}, ErrTest, "threshold NaN")
	f(num, Column{Name: "n", Kind: Numeric}, Override{}, ErrCompare, "no current value")
	f(num, Column{Name: "n", Kind: Numeric, Numbers: []float64{math.NaN(), math.Inf(1)}}, Override{}, ErrCompare, "no current value")
	f(cat, Column{Name: "c", Kind: Categorical}, Override{}, ErrCompare, "no current value")
	f(cat, c, Override{Test: KS}, ErrCompare, "ks needs a numeric column")
	f(cat, c, Override{Test: Wasserstein}, ErrCompare, "wasserstein needs a numeric column")
}

func TestKSAsymptotic(t *testing.T) {
	// The classic 5% critical value of the Kolmogorov distribution.
	if got := kolmogorovSF(1.3580986393225505); math.Abs(got-0.05) > 1e-9 {
		t.Errorf("kolmogorovSF(1.358) = %g, want 0.05", got)
	}
	// Both series agree where they meet.
	below, above := kolmogorovSF(math.Nextafter(1, 0)), kolmogorovSF(1)
	if math.Abs(below-above) > 1e-12 {
		t.Errorf("series disagree at 1: %g, %g", below, above)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	a := finiteSorted(normals(rng, 12000, 0, 1))
	b := finiteSorted(normals(rng, 12000, 0, 1))
	c := finiteSorted(normals(rng, 12000, 0.1, 1))
	if _, p := ksTest(a, b); p < 0.05 {
		t.Errorf("same distribution: p = %g", p)
	}
	if _, p := ksTest(a, c); p > 1e-6 {
		t.Errorf("shifted by 0.1 sd over 12000 rows: p = %g", p)
	}
}
