package drift

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestBuildProfile(t *testing.T) {
	nums := []float64{3, 1, math.NaN(), 2, 2, math.Inf(1), 4}
	cats := []string{"b", "a", "b", "b", "c", "a", "b"}
	score := []float64{0.1, 0.9, 0.5, 0.5, 0.3, 0.7, 0.2}
	keep := slices.Clone(nums)
	p, err := BuildProfile(
		[]Column{{Name: "n", Kind: Numeric, Numbers: nums}, {Name: "c", Kind: Categorical, Categories: cats}},
		[]Column{{Name: "score", Kind: Numeric, Numbers: score}},
		ProfileOptions{Source: "train.csv"},
	)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(keep[:2], nums[:2]) || !slices.Equal(keep[3:], nums[3:]) {
		t.Errorf("input modified: %v", nums)
	}
	if p.Format != 1 || p.Rows != 7 || p.Source != "train.csv" || p.Created.IsZero() {
		t.Errorf("profile header %+v", p)
	}
	n := p.Features[0]
	// NaN and +Inf are left out: 5 rows.
	if n.Count != 5 || n.Mean != 2.4 || math.Abs(n.Std-math.Sqrt(1.3)) > 1e-12 || n.Min != 1 || n.Max != 4 || n.Distinct != 4 {
		t.Errorf("numeric profile %+v", n)
	}
	if !slices.Equal(n.Sample, []float64{1, 2, 2, 3, 4}) || n.Frequencies != nil {
		t.Errorf("numeric sample %v, frequencies %v", n.Sample, n.Frequencies)
	}
	c := p.Features[1]
	if c.Count != 7 || c.Distinct != 3 || !reflect.DeepEqual(c.Frequencies, map[string]int{"a": 2, "b": 4, "c": 1}) || c.Sample != nil {
		t.Errorf("categorical profile %+v", c)
	}
	if len(p.Scores) != 1 || p.Scores[0].Name != "score" || p.Scores[0].Count != 7 {
		t.Errorf("scores %+v", p.Scores)
	}
}

func TestBuildProfileSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	xs := normals(rng, 20000, 5, 2)
	build := func(seed uint64) ColumnProfile {
		t.Helper()
		p, err := BuildProfile([]Column{{Name: "x", Kind: Numeric, Numbers: xs}}, nil, ProfileOptions{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return p.Features[0]
	}
	a, b, other := build(0), build(0), build(1)
	if len(a.Sample) != DefaultSampleRows || !slices.IsSorted(a.Sample) {
		t.Fatalf("sample of %d rows, sorted %v", len(a.Sample), slices.IsSorted(a.Sample))
	}
	if !slices.Equal(a.Sample, b.Sample) {
		t.Error("the same seed drew different samples")
	}
	if slices.Equal(a.Sample, other.Sample) {
		t.Error("another seed drew the same sample")
	}
	// Uniform: the sample's median is near the column's (5), and the
	// moments are of the whole column.
	if med := a.Sample[len(a.Sample)/2]; math.Abs(med-5) > 0.1 {
		t.Errorf("sample median %g, want about 5", med)
	}
	if a.Count != 20000 || math.Abs(a.Mean-5) > 0.05 || math.Abs(a.Std-2) > 0.05 {
		t.Errorf("moments %d %g %g", a.Count, a.Mean, a.Std)
	}
	b2, err := json.Marshal(&Profile{Format: 1, Rows: 20000, Features: []ColumnProfile{a}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b2) > 150_000 {
		t.Errorf("profile of one column takes %d bytes", len(b2))
	}
}

func TestBuildProfileFailure(t *testing.T) {
	f := func(features, scores []Column, opts ProfileOptions, text string) {
		t.Helper()
		p, err := BuildProfile(features, scores, opts)
		if p != nil || !errors.Is(err, ErrProfile) || !strings.Contains(err.Error(), text) {
			t.Errorf("got %v, %v; want ErrProfile with %q", p, err, text)
		}
	}
	n := Column{Name: "n", Kind: Numeric, Numbers: []float64{1, 2}}
	c := Column{Name: "c", Kind: Categorical, Categories: []string{"a", "b"}}
	f(nil, nil, ProfileOptions{}, "no feature columns")
	f([]Column{n}, nil, ProfileOptions{SampleRows: -1}, "negative sample size -1")
	f([]Column{n, {Kind: Numeric, Numbers: []float64{1, 2}}}, nil, ProfileOptions{}, "feature column without a name")
	f([]Column{n, n}, nil, ProfileOptions{}, `feature "n" appears twice`)
	f([]Column{n, {Name: "m", Kind: Numeric, Numbers: []float64{1}}}, nil, ProfileOptions{}, `feature "m" has 1 rows, "n" has 2`)
	f([]Column{n}, []Column{{Name: "s", Kind: Numeric, Numbers: []float64{1, 2, 3}}}, ProfileOptions{}, `score "s" has 3 rows`)
	f([]Column{{Name: "n", Kind: Numeric, Numbers: []float64{math.NaN(), math.Inf(-1)}}}, nil, ProfileOptions{}, `feature "n": no finite value in 2 rows`)
	f([]Column{{Name: "n", Kind: Numeric, Categories: []string{"a"}}}, nil, ProfileOptions{}, "numeric column holds 1 categories")
	f([]Column{{Name: "c", Kind: Categorical, Numbers: []float64{1}}}, nil, ProfileOptions{}, "categorical column holds 1 numbers")
	f([]Column{{Name: "c", Kind: Categorical}}, nil, ProfileOptions{}, `feature "c": no value`)
	f([]Column{{Name: "b", Kind: "bool", Numbers: []float64{1}}}, nil, ProfileOptions{}, `kind "bool"`)
	f([]Column{c}, []Column{c, c}, ProfileOptions{}, `score "c" appears twice`)
}

func TestParseProfileRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	p, err := BuildProfile(dataset(rng, 3000, 0, baseWeights), []Column{{Name: "p", Kind: Numeric, Numbers: normals(rng, 3000, 0.5, 0.1)}}, ProfileOptions{SampleRows: 1000, Source: "eval set"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseProfile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("round trip changed the profile")
	}
}

func TestParseProfileFailure(t *testing.T) {
	valid := `{"format":1,"source":"s","rows":4,"created":"2026-12-06T00:00:00Z","features":[` +
		`{"name":"n","kind":"numeric","count":4,"mean":2,"std":1,"min":1,"max":3,"distinct":3,"sample":[1,2,2,3]},` +
		`{"name":"c","kind":"categorical","count":4,"distinct":2,"frequencies":{"a":3,"b":1}}]}`
	if _, err := ParseProfile([]byte(valid)); err != nil {
		t.Fatalf("valid profile: %v", err)
	}
	f := func(old, new, text string) {
		t.Helper()
		b := strings.Replace(valid, old, new, 1)
		if b == valid {
			t.Fatalf("%q not in the valid profile", old)
		}
		p, err := ParseProfile([]byte(b))
		if p != nil || !errors.Is(err, ErrProfile) || !strings.Contains(err.Error(), text) {
			t.Errorf("%s -> %s: got %v; want ErrProfile with %q", old, new, err, text)
		}
	}
	f(`{"format":1`, `{"format":2`, "format 2: want 1")
	f(`"rows":4`, `"rows":0`, "rows 0")
	f(`"source":"s"`, `"source":"s","extra":1`, `unknown field "extra"`)
	f(`"b":1}}]}`, `"b":1}}]}{}`, "data after the JSON object")
	f(`"rows":4`, `"rows":"4"`, "cannot unmarshal")
	f(`"features":[`, `"features":[],"x":[`, "unknown field")
	f(`"name":"n",`, ``, "feature 0 has no name")
	f(`"name":"c"`, `"name":"n"`, `feature "n" appears twice`)
	f(`"kind":"numeric"`, `"kind":"text"`, `feature "n": kind "text"`)
	f(`"numeric","count":4`, `"numeric","count":5`, "count 5: want 1 to rows (4)")
	f(`"numeric","count":4`, `"numeric","count":0`, "count 0")
	f(`"distinct":3`, `"distinct":5`, "distinct 5: want 1 to count (4)")
	f(`"distinct":3`, `"distinct":2`, "sample of 4 rows holds 3 distinct values, distinct is 2")
	f(`"distinct":3`, `"distinct":4`, "sample of 4 rows holds 3 distinct values, distinct is 4")
	f(`"std":1`, `"std":-1`, "negative std -1")
	f(`"min":1,"max":3`, `"min":4,"max":3`, "min 4 above max 3")
	f(`"sample":[1,2,2,3]`, `"sample":[]`, "no sample")
	f(`"sample":[1,2,2,3]`, `"sample":[1,2,2,3,3]`, "sample of 5 rows above count 4")
	f(`"sample":[1,2,2,3]`, `"sample":[1,2,1,3]`, "sample not sorted: sample[2] = 1 after 2")
	f(`"sample":[1,2,2,3]`, `"sample":[1,2,2,9]`, "sample[3] = 9 outside [min 1, max 3]")
	f(`"sample":[1,2,2,3]`, `"sample":[1,2,2,3],"frequencies":{"1":1}`, "numeric column has frequencies")
	f(`"sample":[1,2,2,3]`, `"sample":[1,NaN]`, "invalid character")
	f(`"frequencies":{"a":3,"b":1}`, `"frequencies":{"a":4,"b":-1}`, `frequency of "b" is -1`)
	f(`"frequencies":{"a":3,"b":1}`, `"frequencies":{"a":3,"b":2}`, "frequencies sum to 5, count is 4")
	f(`"frequencies":{"a":3,"b":1}`, `"frequencies":{"a":4,"b":0}`, "1 values have a frequency, distinct is 2")
	f(`"distinct":2,`, `"distinct":2,"sample":[1],`, "categorical column has a sample")
	f(`"distinct":2,`, `"distinct":2,"mean":1,`, "categorical column has moments")
	f(`"categorical","count":4`, `"categorical","count":4,"frequencies":{"a":1},"x":1`, "unknown field")
	f(`"features":[`, `"scores":[{"kind":"numeric"}],"features":[`, "score 0 has no name")
}

func TestParseProfileEmpty(t *testing.T) {
	for _, b := range []string{``, `{}`, `{"format":1,"rows":1}`, `{"format":1,"rows":1,"features":[]}`, `null`} {
		if p, err := ParseProfile([]byte(b)); p != nil || !errors.Is(err, ErrProfile) {
			t.Errorf("%q: got %v, %v", b, p, err)
		}
	}
}
