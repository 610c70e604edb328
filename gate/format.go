package gate

import (
	"math"
	"strconv"
	"strings"
)

// Numbers in reasons and reports show minDigits significant digits, more
// (up to maxDigits) when two numbers side by side would otherwise read the
// same.
const (
	minDigits = 4
	maxDigits = 10
)

// num formats v with digits significant digits: "0.8123", "12.35",
// "123457" (large numbers in plain notation, since they are counts and
// rates), "undefined" for NaN.
func num(v float64, digits int) string {
	switch {
	case math.IsNaN(v):
		return "undefined"
	case math.IsInf(v, 0) || math.Abs(v) < 1e15 && math.Abs(v) >= math.Pow10(digits):
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', digits, 64)
}

// nums formats a and b with the fewest significant digits, from minDigits
// to maxDigits, that tell them apart.
func nums(a, b float64) (string, string) {
	d := minDigits
	for d < maxDigits && a != b && num(a, d) == num(b, d) {
		d++
	}
	return num(a, d), num(b, d)
}

// exact formats v with the fewest digits that read back as v: a bound as
// the policy wrote it, a label as the eval set did.
func exact(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// thresholdText lists the bounds of t, such as "min 0.85,
// max_regression 0.01", or returns "" when t is nil.
func thresholdText(t *Threshold) string {
	if t == nil {
		return ""
	}
	var parts []string
	for _, b := range []struct {
		name string
		v    *float64
	}{{"min", t.Min}, {"max", t.Max}, {"max_regression", t.MaxRegression}, {"max_regression_pct", t.MaxRegressionPct}} {
		if b.v != nil {
			parts = append(parts, b.name+" "+exact(*b.v))
		}
	}
	return strings.Join(parts, ", ")
}

// plural returns "1 row", "2 rows": n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	s := strconv.Itoa(n) + " " + noun
	if n != 1 {
		s += "s"
	}
	return s
}
