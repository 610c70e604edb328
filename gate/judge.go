package gate

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// tolerance absorbs the rounding of metric arithmetic when a value is
// compared with a bound, relative to the bound (or absolute below 1), so
// that a value equal to its bound on paper does not fail by 1e-17.
const tolerance = 1e-9

// group is a set of rows the metrics were computed on: the whole
// evaluation set or one slice of it.
type group struct {
	// slice is "" for the whole set, else "feature=value".
	slice string
	rows  int
	// judged is false for a slice too small to hold to the thresholds.
	judged bool
	// cand and stable hold the metrics by name; stable is nil when no
	// stable version was evaluated.
	cand, stable map[string]float64
}

// judge applies a policy's thresholds to groups of metrics, collecting
// the verdict's metrics, failures and notes. It is used by one goroutine.
type judge struct {
	p            *Policy
	cand, stable string // the subjects' names, as reasons call them
	metrics      []Metric
	// failures say why the candidate fails; notes, for a candidate that
	// passes, what it was not judged on.
	failures, notes []string
	// checked counts the metrics whose thresholds had a bound to check.
	checked int
}

// group records g's metrics, sorted by name, and, when g is judged,
// holds each metric the policy has a threshold for to that threshold.
func (j *judge) group(g *group) {
	for _, name := range slices.Sorted(maps.Keys(g.cand)) {
		m := Metric{
			Name:            name,
			Slice:           g.slice,
			Rows:            g.rows,
			Candidate:       Number(g.cand[name]),
			Stable:          Number(math.NaN()),
			GreaterIsBetter: j.p.GreaterIsBetter(name),
			Pass:            true,
		}
		if g.stable != nil {
			m.Stable = Number(g.stable[name])
		}
		if t, ok := j.p.Metrics[name]; ok && g.judged {
			m.Threshold = &t
			m.Pass = j.check(&m, g.stable != nil)
		}
		j.metrics = append(j.metrics, m)
	}
}

// check holds m to its threshold, the regression bounds only when
// compared is true (a stable version was evaluated), and reports whether
// it passed, adding a failure for each bound it broke.
func (j *judge) check(m *Metric, compared bool) bool {
	t := m.Threshold
	subject := m.Name + " of " + j.cand
	if m.Slice != "" {
		subject += fmt.Sprintf(" on slice %s (%s)", m.Slice, plural(m.Rows, "row"))
	}
	c := float64(m.Candidate)
	if math.IsNaN(c) {
		j.failures = append(j.failures, fmt.Sprintf("%s is undefined, so its threshold cannot be met.", subject))
		return false
	}
	n := len(j.failures)
	bounded := false
	if t.Min != nil {
		bounded = true
		if below(c, *t.Min) {
			j.failures = append(j.failures, fmt.Sprintf("%s is %s, below the minimum %s.", subject, num(c, minDigits), exact(*t.Min)))
		}
	}
	if t.Max != nil {
		bounded = true
		if above(c, *t.Max) {
			j.failures = append(j.failures, fmt.Sprintf("%s is %s, above the maximum %s.", subject, num(c, minDigits), exact(*t.Max)))
		}
	}
	if compared && (t.MaxRegression != nil || t.MaxRegressionPct != nil) {
		if j.regression(m, subject) {
			bounded = true
		}
	}
	if bounded {
		j.checked++
	}
	return len(j.failures) == n
}

// regression holds m to its regression bounds against the stable
// version's value, adding a failure for each it broke, and reports
// whether it could compare: not when the stable value is undefined.
func (j *judge) regression(m *Metric, subject string) bool {
	t := m.Threshold
	c, s := float64(m.Candidate), float64(m.Stable)
	if math.IsNaN(s) {
		j.notes = append(j.notes, fmt.Sprintf("%s of %s is undefined, so %s was not compared with it.",
			m.Name, j.stable, subject))
		return false
	}
	worse, dir := c-s, "above"
	if m.GreaterIsBetter {
		worse, dir = s-c, "below"
	}
	cs, ss := nums(c, s)
	if t.MaxRegression != nil && above(worse, *t.MaxRegression) {
		j.failures = append(j.failures, fmt.Sprintf("%s is %s, more than %s %s %s's %s (max_regression %s).",
			subject, cs, exact(*t.MaxRegression), dir, j.stable, ss, exact(*t.MaxRegression)))
	}
	if t.MaxRegressionPct != nil && worse > 0 {
		switch pct := 100 * worse / math.Abs(s); {
		case s == 0:
			j.failures = append(j.failures, fmt.Sprintf("%s is %s, %s %s's 0, a regression no percentage allows (max_regression_pct %s).",
				subject, cs, dir, j.stable, exact(*t.MaxRegressionPct)))
		case above(pct, *t.MaxRegressionPct):
			j.failures = append(j.failures, fmt.Sprintf("%s is %s, %s%% %s %s's %s (max_regression_pct %s).",
				subject, cs, num(pct, 3), dir, j.stable, ss, exact(*t.MaxRegressionPct)))
		}
	}
	return true
}

// uncomputed adds a failure for each metric the policy holds to a
// threshold that computed, the whole set's metrics, lacks: one the gate
// does not compute for a model of classes classes.
func (j *judge) uncomputed(computed map[string]float64, classes int) {
	for _, name := range slices.Sorted(maps.Keys(j.p.Metrics)) {
		if _, ok := computed[name]; !ok {
			j.failures = append(j.failures, fmt.Sprintf("%s has a threshold, but the gate does not compute it for %s, %s.",
				name, j.cand, kind(classes)))
		}
	}
}

// passed returns the reasons of a candidate that passed on rows rows:
// what it passed, against the stable version when compared is true, then
// the notes.
func (j *judge) passed(rows int, compared bool) []string {
	var reasons []string
	switch {
	case len(j.p.Metrics) == 0:
		reasons = []string{
			fmt.Sprintf("%s passed the sanity checks on %s.", j.cand, plural(rows, "row")),
			"no thresholds set: only the sanity checks were applied.",
		}
	case compared:
		reasons = []string{fmt.Sprintf("%s passed %s against %s on %s.",
			j.cand, plural(j.checked, "threshold"), j.stable, plural(rows, "row"))}
	default:
		reasons = []string{fmt.Sprintf("%s passed %s on %s.", j.cand, plural(j.checked, "threshold"), plural(rows, "row"))}
	}
	return append(reasons, j.notes...)
}

// above reports whether v is above bound by more than tolerance allows.
func above(v, bound float64) bool { return v-bound > tolerance*max(1, math.Abs(bound)) }

// below reports whether v is below bound by more than tolerance allows.
func below(v, bound float64) bool { return bound-v > tolerance*max(1, math.Abs(bound)) }

// kind names the type of a model of classes classes.
func kind(classes int) string {
	switch classes {
	case 0:
		return "a regressor"
	case 2:
		return "a binary classifier"
	}
	return fmt.Sprintf("a classifier of %d classes", classes)
}
