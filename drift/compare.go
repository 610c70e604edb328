package drift

import (
	"fmt"
	"math"
)

// The reference size and value counts at which Evidently's default test
// changes (get_default_stattest).
const (
	smallReferenceRows = 1000
	fewValues          = 5
	twoValues          = 2
	// binnedValues: a numeric reference with more distinct values than
	// this is binned for Jensen–Shannon and PSI, otherwise counted by
	// value (Evidently's get_binned_data).
	binnedValues = 20
)

// jsBase is the logarithm base of the Jensen–Shannon distance. Evidently
// calls scipy's jensenshannon without a base, so natural logarithms: the
// distance lies in [0, sqrt(ln 2)] and its 0.1 threshold is meant for
// that scale.
const jsBase = math.E

// defaultThreshold is each test's threshold in Evidently.
func defaultThreshold(t Test) float64 {
	switch t {
	case KS, ChiSquare, ZTest:
		return 0.05
	default:
		return 0.1
	}
}

// Compare judges current against the reference ref with Evidently's
// default test for them (get_default_stattest), or o's when set. Values
// of current that are not finite are left out, as Evidently drops them.
//
// The default: with a reference of at most 1000 rows (ref.Count), a
// numeric column with more than 5 distinct values in reference and
// current together gets the two-sample Kolmogorov–Smirnov test,
// otherwise chi-squared when there are more than 2 values, else the
// two-proportion Z-test, all drifting at p-value < 0.05 (KS: <=, as in
// Evidently). With a larger reference, a numeric column with more than 5
// values gets the Wasserstein distance normed by the reference std,
// anything else the Jensen–Shannon distance (natural logarithms), both
// drifting at >= 0.1. PSI is used only when asked for; it drifts at >=
// 0.1 (PSIModerate), and PSISignificant marks a large shift.
//
// A numeric reference is its Sample (the whole column up to SampleRows
// rows) with Count and Std of the whole column; a categorical one its
// Frequencies. Distinct values are counted as ref.Distinct plus the
// current values not in the sample: exact when the sample is the whole
// column, otherwise an upper bound, off only if a value the sample missed
// comes back in current (with 5,000 sampled rows, a value can be missed
// only if it is rare, and the count matters only near 5 values).
//
// Compare wraps ErrTest for an unknown test or a negative threshold and
// ErrCompare when current is empty, its kind differs from ref's, or the
// test does not apply (ks and wasserstein need numbers). It does not
// modify its arguments; it runs in O(n log n) of the current rows plus
// the test's cost (the exact KS p-value is O(n1·n2) at worst).
func Compare(ref *ColumnProfile, current Column, o Override) (Result, error) {
	if ref == nil {
		return Result{}, fmt.Errorf("%w: column %q has no reference", ErrCompare, current.Name)
	}
	if current.Kind != ref.Kind {
		return Result{}, fmt.Errorf("%w: column %q is %s, its reference %s", ErrCompare, current.Name, current.Kind, ref.Kind)
	}
	if o.Test != "" && !isKnownTest(o.Test) {
		return Result{}, fmt.Errorf("%w: %q for column %q", ErrTest, o.Test, current.Name)
	}
	if o.Threshold < 0 || math.IsNaN(o.Threshold) || math.IsInf(o.Threshold, 0) {
		return Result{}, fmt.Errorf("%w: threshold %g for column %q", ErrTest, o.Threshold, current.Name)
	}
	var c comparison
	switch ref.Kind {
	case Numeric:
		c = numericComparison(ref, current)
	case Categorical:
		c = categoricalComparison(ref, current)
	default:
		return Result{}, fmt.Errorf("%w: column %q has kind %q", ErrCompare, current.Name, ref.Kind)
	}
	if c.rows == 0 {
		return Result{}, fmt.Errorf("%w: column %q has no current value", ErrCompare, current.Name)
	}
	test := o.Test
	if test == "" {
		test = defaultTest(ref, c.nValues)
	}
	r := Result{Column: current.Name, Test: test, Threshold: o.Threshold, Reference: referenceSummary(ref), Current: c.summary}
	if r.Threshold == 0 {
		r.Threshold = defaultThreshold(test)
	}
	if (test == KS || test == Wasserstein) && ref.Kind != Numeric {
		return Result{}, fmt.Errorf("%w: test %s needs a numeric column, %q is %s", ErrCompare, test, current.Name, ref.Kind)
	}
	var p float64
	switch test {
	case KS:
		r.Statistic, p = ksTest(ref.Sample, c.numbers)
		r.PValue, r.Drifted = &p, p <= r.Threshold
	case ChiSquare:
		r.Statistic, p = chiSquareTest(c.values())
		r.PValue, r.Drifted = &p, p < r.Threshold
	case ZTest:
		r.Statistic, p = zTest(c.values())
		r.PValue, r.Drifted = &p, p < r.Threshold
	case Wasserstein:
		r.Statistic = wasserstein(ref.Sample, c.numbers) / wassersteinNorm(ref)
		r.Drifted = r.Statistic >= r.Threshold
	case JensenShannon:
		t := c.values()
		if c.binned() {
			t = binTable(ref.Sample, c.numbers, sturgesEdges(ref.Sample, c.numbers))
		}
		p, q := t.percents(false)
		r.Statistic = jensenShannon(p, q, jsBase)
		r.Drifted = r.Statistic >= r.Threshold
	case PSI:
		t := c.values()
		if c.binned() {
			t = binTable(ref.Sample, c.numbers, quantileEdges(ref.Sample))
		}
		r.Statistic = psi(t)
		r.Drifted = r.Statistic >= r.Threshold
	}
	// encoding/json refuses ±Inf: a chi-squared statistic is infinite when
	// current has a value the reference never had (its p-value is 0).
	if math.IsInf(r.Statistic, 1) {
		r.Statistic = math.MaxFloat64
	}
	return r, nil
}

// defaultTest is Evidently's get_default_stattest.
func defaultTest(ref *ColumnProfile, nValues int) Test {
	numeric := ref.Kind == Numeric
	if ref.Count <= smallReferenceRows {
		switch {
		case numeric && nValues > fewValues:
			return KS
		case nValues > twoValues:
			return ChiSquare
		default:
			return ZTest
		}
	}
	if numeric && nValues > fewValues {
		return Wasserstein
	}
	return JensenShannon
}

func isKnownTest(t Test) bool {
	switch t {
	case KS, ChiSquare, ZTest, Wasserstein, JensenShannon, PSI:
		return true
	}
	return false
}

// comparison is the current data of a column, ready for the tests.
type comparison struct {
	ref     *ColumnProfile
	rows    int
	nValues int // distinct values in reference and current together
	summary Summary
	// numbers are the sorted finite current values (numeric).
	numbers []float64
	// counts are the current values' counts (categorical).
	counts map[string]int
}

func numericComparison(ref *ColumnProfile, current Column) comparison {
	xs := finiteSorted(current.Numbers)
	c := comparison{ref: ref, rows: len(xs), numbers: xs, summary: Summary{Rows: len(xs)}}
	if len(xs) == 0 {
		return c
	}
	mean, std := meanStd(xs)
	c.summary.Mean = &mean
	if len(xs) > 1 {
		c.summary.Std = &std
	}
	inSample := distinctSorted(ref.Sample)
	union := distinctUnion(ref.Sample, xs)
	c.nValues = ref.Distinct + union - inSample
	return c
}

func categoricalComparison(ref *ColumnProfile, current Column) comparison {
	c := comparison{ref: ref, rows: len(current.Categories), counts: make(map[string]int)}
	for _, v := range current.Categories {
		c.counts[v]++
	}
	c.nValues = ref.Distinct
	for v := range c.counts {
		if ref.Frequencies[v] <= 0 {
			c.nValues++
		}
	}
	c.summary = Summary{Rows: c.rows, Top: top(c.counts, c.rows)}
	return c
}

// values is the table of the reference and current counts of each value.
func (c *comparison) values() *table {
	if c.ref.Kind == Numeric {
		return valueTable(c.ref.Sample, c.numbers)
	}
	return categoryTable(c.ref.Frequencies, c.counts)
}

// binned says whether Jensen–Shannon and PSI bin the column rather than
// count its values: numeric with more than 20 distinct reference values.
func (c *comparison) binned() bool {
	return c.ref.Kind == Numeric && distinctSorted(c.ref.Sample) > binnedValues
}

// distinctUnion counts the distinct values of two sorted slices together.
func distinctUnion(a, b []float64) int {
	n, i, j := 0, 0, 0
	for i < len(a) || j < len(b) {
		var x float64
		if j == len(b) || (i < len(a) && a[i] <= b[j]) {
			x = a[i]
		} else {
			x = b[j]
		}
		n++
		for i < len(a) && a[i] == x {
			i++
		}
		for j < len(b) && b[j] == x {
			j++
		}
	}
	return n
}
