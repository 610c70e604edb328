package drift

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat"
)

// sampleStream is the second word of the PCG state that draws reference
// samples; the first is ProfileOptions.Seed. Changing it changes every
// profile built from then on.
const sampleStream = 0x5377697463687961 // "Switchya"

// BuildProfile builds the profile of features and scores. Values that are
// not finite (NaN, ±Inf) are left out, as Evidently drops them, so a
// column's Count may be below Rows; a column with no finite value, a
// column whose kind does not fit its data, a missing or repeated name and
// columns of different lengths are refused with ErrProfile. Rows is the
// length of the columns. The inputs are not modified.
func BuildProfile(features, scores []Column, opts ProfileOptions) (*Profile, error) {
	if len(features) == 0 {
		return nil, fmt.Errorf("%w: no feature columns", ErrProfile)
	}
	if opts.SampleRows < 0 {
		return nil, fmt.Errorf("%w: negative sample size %d", ErrProfile, opts.SampleRows)
	}
	if opts.SampleRows == 0 {
		opts.SampleRows = DefaultSampleRows
	}
	rows := columnLen(features[0])
	p := &Profile{
		Format:   1,
		Source:   opts.Source,
		Rows:     rows,
		Created:  time.Now().UTC().Truncate(time.Second),
		Features: make([]ColumnProfile, 0, len(features)),
	}
	for _, set := range []struct {
		what string
		cols []Column
		out  *[]ColumnProfile
	}{{"feature", features, &p.Features}, {"score", scores, &p.Scores}} {
		seen := make(map[string]bool, len(set.cols))
		for _, c := range set.cols {
			if c.Name == "" {
				return nil, fmt.Errorf("%w: %s column without a name", ErrProfile, set.what)
			}
			if seen[c.Name] {
				return nil, fmt.Errorf("%w: %s %q appears twice", ErrProfile, set.what, c.Name)
			}
			seen[c.Name] = true
			if n := columnLen(c); n != rows {
				return nil, fmt.Errorf("%w: %s %q has %d rows, %q has %d", ErrProfile, set.what, c.Name, n, features[0].Name, rows)
			}
			cp, err := profileColumn(c, opts)
			if err != nil {
				return nil, fmt.Errorf("%w: %s %q: %s", ErrProfile, set.what, c.Name, err)
			}
			*set.out = append(*set.out, cp)
		}
	}
	return p, nil
}

func columnLen(c Column) int {
	if c.Kind == Categorical {
		return len(c.Categories)
	}
	return len(c.Numbers)
}

// profileColumn summarises one column; its error text is completed by
// BuildProfile with the column's name.
func profileColumn(c Column, opts ProfileOptions) (ColumnProfile, error) {
	cp := ColumnProfile{Name: c.Name, Kind: c.Kind}
	switch c.Kind {
	case Numeric:
		if len(c.Categories) > 0 {
			return cp, fmt.Errorf("numeric column holds %d categories", len(c.Categories))
		}
		xs := finiteSorted(c.Numbers)
		if len(xs) == 0 {
			return cp, fmt.Errorf("no finite value in %d rows", len(c.Numbers))
		}
		cp.Count = len(xs)
		cp.Mean, cp.Std = meanStd(xs)
		cp.Min, cp.Max = xs[0], xs[len(xs)-1]
		cp.Distinct = distinctSorted(xs)
		cp.Sample = sampleSorted(xs, opts.SampleRows, opts.Seed)
	case Categorical:
		if len(c.Numbers) > 0 {
			return cp, fmt.Errorf("categorical column holds %d numbers", len(c.Numbers))
		}
		if len(c.Categories) == 0 {
			return cp, fmt.Errorf("no value")
		}
		cp.Count = len(c.Categories)
		cp.Frequencies = make(map[string]int)
		for _, v := range c.Categories {
			cp.Frequencies[v]++
		}
		cp.Distinct = len(cp.Frequencies)
	default:
		return cp, fmt.Errorf("kind %q: want %q or %q", c.Kind, Numeric, Categorical)
	}
	return cp, nil
}

// finiteSorted returns a sorted copy of the finite values of xs.
func finiteSorted(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// meanStd returns the mean and the sample standard deviation (ddof=1, as
// pandas computes it; 0 for a single value).
func meanStd(xs []float64) (mean, std float64) {
	if len(xs) < 2 {
		return xs[0], 0
	}
	return stat.MeanStdDev(xs, nil)
}

// distinctSorted counts the distinct values of the sorted xs.
func distinctSorted(xs []float64) int {
	n := 0
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			n++
		}
	}
	return n
}

// sampleSorted returns a sorted uniform sample without replacement of at
// most k values of the sorted xs, drawn by a partial Fisher–Yates shuffle
// of the indices with a PCG seeded by seed. When xs fits, it is the whole
// column (a copy need not be made: xs is already a private copy).
func sampleSorted(xs []float64, k int, seed uint64) []float64 {
	if len(xs) <= k {
		return xs
	}
	rng := rand.New(rand.NewPCG(seed, sampleStream))
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	for i := range k {
		j := i + rng.IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	picked := idx[:k]
	slices.Sort(picked)
	out := make([]float64, k)
	for i, j := range picked {
		out[i] = xs[j]
	}
	return out
}
