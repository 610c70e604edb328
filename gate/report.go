package gate

import (
	"cmp"
	"fmt"
	"math"
	"strings"
)

// Markdown renders v for a person reading a CI log or a pull request: a
// heading with PASS or FAIL, the candidate and the stable version; a
// table of the metrics (a slice column only when there are slices, stable
// and change columns only when a stable version was named), in v's
// order; then the reasons as a bullet list. Undefined values show as
// "—", and each candidate and stable pair shows as many digits as it takes
// to tell them apart. The result ends with a newline.
func (v *Verdict) Markdown() string {
	var b strings.Builder
	result := "FAIL"
	if v.Pass {
		result = "PASS"
	}
	fmt.Fprintf(&b, "## %s: %s", result, cmp.Or(v.Candidate, "the candidate"))
	if v.Stable != "" {
		fmt.Fprintf(&b, " against %s", v.Stable)
	}
	if v.Rows > 0 {
		fmt.Fprintf(&b, " on %s\n\n", plural(v.Rows, "row"))
	} else {
		b.WriteString(" (not evaluated)\n\n")
	}

	if len(v.Metrics) > 0 {
		sliced := false
		for _, m := range v.Metrics {
			sliced = sliced || m.Slice != ""
		}
		compared := v.Stable != ""
		cols := []string{"metric"}
		if sliced {
			cols = append(cols, "slice")
		}
		cols = append(cols, "candidate")
		if compared {
			cols = append(cols, "stable", "change")
		}
		cols = append(cols, "threshold", "result")
		row(&b, cols)
		for i := range cols {
			cols[i] = "---"
		}
		row(&b, cols)
		for _, m := range v.Metrics {
			row(&b, metricCells(&m, sliced, compared))
		}
		b.WriteByte('\n')
	}

	for _, r := range v.Reasons {
		fmt.Fprintf(&b, "- %s\n", r)
	}
	return b.String()
}

// metricCells returns the cells of m's row of the table.
func metricCells(m *Metric, sliced, compared bool) []string {
	c, s := float64(m.Candidate), float64(m.Stable)
	cs, ss := nums(c, s)
	cells := []string{m.Name}
	if sliced {
		slice := "all"
		if m.Slice != "" {
			slice = fmt.Sprintf("%s (%s)", m.Slice, plural(m.Rows, "row"))
		}
		cells = append(cells, slice)
	}
	cells = append(cells, dash(cs, c))
	if compared {
		change := "—"
		if !math.IsNaN(c) && !math.IsNaN(s) {
			change = num(c-s, minDigits)
			if c > s {
				change = "+" + change
			}
		}
		cells = append(cells, dash(ss, s), change)
	}
	threshold, result := "—", "—"
	if m.Threshold != nil {
		threshold, result = thresholdText(m.Threshold), "pass"
		if !m.Pass {
			result = "**FAIL**"
		}
	}
	return append(cells, threshold, result)
}

// row writes one table row of cells.
func row(b *strings.Builder, cells []string) {
	b.WriteByte('|')
	for _, c := range cells {
		fmt.Fprintf(b, " %s |", cellText(c))
	}
	b.WriteByte('\n')
}

// cellEscaper escapes what would break a table cell: pipes and line
// breaks. It is read-only.
var cellEscaper = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ")

// cellText escapes s for a table cell.
func cellText(s string) string { return cellEscaper.Replace(s) }

// dash returns "—" for an undefined value v, else its text s.
func dash(s string, v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return s
}
