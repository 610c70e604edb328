package drift

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// ParseProfile decodes and validates a profile.json; the error says what
// is wrong, for the version's drift report. It wraps ErrProfile when the
// JSON is malformed or has unknown fields, the format is not 1, or a
// column is inconsistent: an unknown kind, a missing or repeated name, a
// count above the rows or below one, a distinct count that does not fit,
// a numeric column with frequencies or without a sorted finite sample
// inside [min, max] whose distinct values fit, a categorical column with
// a sample or with frequencies that are negative or do not sum to its
// count.
func ParseProfile(b []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrProfile, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrProfile)
	}
	if p.Format != 1 {
		return nil, fmt.Errorf("%w: format %d: want 1", ErrProfile, p.Format)
	}
	if p.Rows < 1 {
		return nil, fmt.Errorf("%w: rows %d: want at least 1", ErrProfile, p.Rows)
	}
	if len(p.Features) == 0 {
		return nil, fmt.Errorf("%w: no features", ErrProfile)
	}
	for _, set := range []struct {
		what string
		cols []ColumnProfile
	}{{"feature", p.Features}, {"score", p.Scores}} {
		seen := make(map[string]bool, len(set.cols))
		for i := range set.cols {
			c := &set.cols[i]
			if c.Name == "" {
				return nil, fmt.Errorf("%w: %s %d has no name", ErrProfile, set.what, i)
			}
			if seen[c.Name] {
				return nil, fmt.Errorf("%w: %s %q appears twice", ErrProfile, set.what, c.Name)
			}
			seen[c.Name] = true
			if err := checkColumn(c, p.Rows); err != nil {
				return nil, fmt.Errorf("%w: %s %q: %s", ErrProfile, set.what, c.Name, err)
			}
		}
	}
	return &p, nil
}

// checkColumn validates one column; ParseProfile names it in the error.
func checkColumn(c *ColumnProfile, rows int) error {
	if c.Count < 1 || c.Count > rows {
		return fmt.Errorf("count %d: want 1 to rows (%d)", c.Count, rows)
	}
	if c.Distinct < 1 || c.Distinct > c.Count {
		return fmt.Errorf("distinct %d: want 1 to count (%d)", c.Distinct, c.Count)
	}
	switch c.Kind {
	case Numeric:
		return checkNumeric(c)
	case Categorical:
		return checkCategorical(c)
	default:
		return fmt.Errorf("kind %q: want %q or %q", c.Kind, Numeric, Categorical)
	}
}

func checkNumeric(c *ColumnProfile) error {
	// encoding/json cannot decode NaN or ±Inf, so the moments are finite.
	if c.Std < 0 {
		return fmt.Errorf("negative std %g", c.Std)
	}
	if c.Min > c.Max {
		return fmt.Errorf("min %g above max %g", c.Min, c.Max)
	}
	if len(c.Frequencies) > 0 {
		return fmt.Errorf("numeric column has frequencies")
	}
	if len(c.Sample) == 0 {
		return fmt.Errorf("no sample")
	}
	if len(c.Sample) > c.Count {
		return fmt.Errorf("sample of %d rows above count %d", len(c.Sample), c.Count)
	}
	for i, x := range c.Sample {
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			return fmt.Errorf("sample[%d] is not finite", i)
		case x < c.Min || x > c.Max:
			return fmt.Errorf("sample[%d] = %g outside [min %g, max %g]", i, x, c.Min, c.Max)
		case i > 0 && x < c.Sample[i-1]:
			return fmt.Errorf("sample not sorted: sample[%d] = %g after %g", i, x, c.Sample[i-1])
		}
	}
	if d := distinctSorted(c.Sample); d > c.Distinct || (len(c.Sample) == c.Count && d != c.Distinct) {
		return fmt.Errorf("sample of %d rows holds %d distinct values, distinct is %d", len(c.Sample), d, c.Distinct)
	}
	return nil
}

func checkCategorical(c *ColumnProfile) error {
	if len(c.Sample) > 0 {
		return fmt.Errorf("categorical column has a sample")
	}
	if c.Mean != 0 || c.Std != 0 || c.Min != 0 || c.Max != 0 {
		return fmt.Errorf("categorical column has moments")
	}
	sum, nonzero := 0, 0
	for v, n := range c.Frequencies {
		if n < 0 || n > c.Count {
			return fmt.Errorf("frequency of %q is %d: want 0 to count (%d)", v, n, c.Count)
		}
		if n > 0 {
			nonzero++
		}
		sum += n
	}
	if sum != c.Count {
		return fmt.Errorf("frequencies sum to %d, count is %d", sum, c.Count)
	}
	if nonzero != c.Distinct {
		return fmt.Errorf("%d values have a frequency, distinct is %d", nonzero, c.Distinct)
	}
	return nil
}
