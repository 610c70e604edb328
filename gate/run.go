package gate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
)

// Run evaluates candidate and, when stable is not nil, stable on set in
// the same run, one after the other, each in batches of p.BatchRows rows
// of which at most p.Concurrency run at once, and judges the candidate.
//
// The candidate fails, with one reason per problem, when set does not fit
// it (its width, its classes or p's positive class), when it cannot be
// run (a Predict error or panic), when the sanity checks find its outputs
// broken (NaN or infinite values; for a classifier, probabilities outside
// [0, 1] or rows not summing to 1 within 1e-4, or a single predicted
// class on a set whose labels hold several; the same output for every
// row), when p holds it to a metric the gate does not compute for its
// type, and when a metric breaks its threshold: Min and Max, then
// MaxRegression and MaxRegressionPct against stable's value on the same
// rows. A metric that is undefined on the set (the AUC of a single class)
// is NaN and fails only a threshold on it. Slices of at least
// p.Slices.MinRows rows are held to the thresholds too; smaller ones are
// reported only. When stable does not fit set, differs from the candidate
// in classes, or cannot be run, its values stay NaN and the candidate
// fails only if p has a regression threshold. Regression thresholds are
// skipped when stable is nil. The verdict lists every metric computed and
// belongs to the caller.
//
// Latencies are those of each batch's Predict call; their percentiles are
// nearest-rank (the smallest latency that at least 50% or 99% of the
// batches do not exceed, without interpolation), and the throughput is
// set.Rows over the wall time of the candidate's whole evaluation.
//
// Run returns an error, and no verdict, when ctx ends first, and when its
// arguments are the caller's bug: p fails Validate, set is nil or empty,
// p slices a set read without EvalConfig.SliceBy, or a subject has no
// Predictor, a width below 1, or 1 or a negative number of classes. Run
// is safe for concurrent use if the subjects' Predictors are.
func Run(ctx context.Context, p Policy, set *EvalSet, candidate Subject, stable *Subject) (*Verdict, error) {
	if err := checkRun(&p, set, candidate, stable); err != nil {
		return nil, err
	}
	v := &Verdict{Candidate: candidate.Name, Rows: set.Rows, Metrics: []Metric{}}
	j := &judge{p: &p, cand: cmp.Or(candidate.Name, "the candidate")}
	if stable != nil {
		v.Stable = stable.Name
		j.stable = cmp.Or(stable.Name, "the stable version")
	}
	if problem := unfit(&p, set, candidate, j.cand); problem != "" {
		return v.fail(problem + "."), nil
	}
	cand, err := evaluate(ctx, &p, set, candidate)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("gate: evaluate %s: %w", j.cand, ctx.Err())
	}
	if err != nil {
		return v.fail(fmt.Sprintf("%s could not be evaluated on this set: %v.", j.cand, err)), nil
	}

	st, stableProblem, err := runStable(ctx, &p, set, candidate, stable, j)
	if err != nil {
		return nil, err
	}

	groups := groupsOf(&p, set, candidate.Classes, cand, st)
	j.failures = append(j.failures, sanity(j.cand, candidate.Classes, set.Labels, cand.out)...)
	j.uncomputed(groups[0].cand, candidate.Classes)
	switch {
	case stableProblem != "" && p.compares():
		j.failures = append(j.failures, fmt.Sprintf(
			"%s could not be evaluated on this set, so the regression thresholds cannot be checked: %s.", j.stable, stableProblem))
	case stableProblem != "":
		j.notes = append(j.notes, fmt.Sprintf("%s could not be evaluated on this set, so nothing was compared with it: %s.",
			j.stable, stableProblem))
	case stable == nil && p.compares():
		j.notes = append(j.notes, "no stable version to compare with: the regression thresholds were not applied.")
	}
	small := 0
	for _, g := range groups {
		j.group(g)
		if !g.judged {
			small++
		}
	}
	if small > 0 && len(p.Metrics) > 0 {
		note := "%s of %s have fewer than %s and were reported without thresholds."
		if small == 1 {
			note = "%s of %s has fewer than %s and was reported without thresholds."
		}
		j.notes = append(j.notes, fmt.Sprintf(note, plural(small, "slice"), p.Slices.Feature, plural(p.Slices.minRows(), "row")))
	}

	v.Metrics = j.metrics
	if len(j.failures) > 0 {
		v.Reasons = j.failures
		return v, nil
	}
	v.Pass = true
	v.Reasons = j.passed(set.Rows, st != nil)
	return v, nil
}

// runStable evaluates stable, when not nil, for the comparison with
// candidate. It returns the outcome, or what kept stable from one as a
// phrase without final punctuation: another number of classes than the
// candidate's, a set unfit for it, or an error running it. It returns an
// error only when ctx ends first.
func runStable(ctx context.Context, p *Policy, set *EvalSet, candidate Subject, stable *Subject, j *judge) (*outcome, string, error) {
	if stable == nil {
		return nil, "", nil
	}
	if stable.Classes != candidate.Classes {
		return nil, fmt.Sprintf("%s is %s, and %s %s", j.stable, kind(stable.Classes), j.cand, kind(candidate.Classes)), nil
	}
	if problem := unfit(p, set, *stable, j.stable); problem != "" {
		return nil, problem, nil
	}
	st, err := evaluate(ctx, p, set, *stable)
	if ctx.Err() != nil {
		return nil, "", fmt.Errorf("gate: evaluate %s: %w", j.stable, ctx.Err())
	}
	if err != nil {
		return nil, err.Error(), nil
	}
	return st, "", nil
}

// checkRun checks Run's arguments for the caller's bugs.
func checkRun(p *Policy, set *EvalSet, candidate Subject, stable *Subject) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("gate: invalid policy: %w", err)
	}
	if set == nil || set.Rows == 0 {
		return errors.New("gate: empty eval set")
	}
	if p.Slices != nil && set.SliceOf == nil {
		return fmt.Errorf("gate: the policy slices by %q, but the eval set was read without SliceBy", p.Slices.Feature)
	}
	if err := candidate.check(); err != nil {
		return err
	}
	if stable != nil {
		return stable.check()
	}
	return nil
}

// check reports what makes s unusable, a caller's bug.
func (s *Subject) check() error {
	switch {
	case s.Predictor == nil:
		return fmt.Errorf("gate: subject %q has no Predictor", s.Name)
	case s.Width < 1:
		return fmt.Errorf("gate: subject %q has width %d", s.Name, s.Width)
	case s.Classes < 0 || s.Classes == 1:
		return fmt.Errorf("gate: subject %q has %d classes; want 0 for a regressor or at least 2", s.Name, s.Classes)
	}
	return nil
}

// unfit returns what makes set unfit to evaluate s, called name, as a
// phrase without final punctuation, or "" when it fits: a different
// width, a label that is not one of a classifier's classes, or a positive
// class a binary classifier does not have.
func unfit(p *Policy, set *EvalSet, s Subject, name string) string {
	if set.Width != s.Width {
		return fmt.Sprintf("the eval set has %d features per row, but %s takes %d", set.Width, name, s.Width)
	}
	if s.Classes == 0 {
		return ""
	}
	for i, l := range set.Labels {
		if l != math.Trunc(l) || l < 0 || l >= float64(s.Classes) {
			return fmt.Sprintf("row %d of the eval set has label %s, which is not one of the %d classes of %s",
				i+1, exact(l), s.Classes, name)
		}
	}
	if pc := p.positiveClass(); s.Classes == 2 && pc > 1 {
		return fmt.Sprintf("gate.positive_class is %d, but %s is a binary classifier, of classes 0 and 1", pc, name)
	}
	return ""
}

// groupsOf computes the metrics of the candidate's outcome cand and, when
// not nil, the stable version's st: the whole set's (quality, latency and
// throughput) first, then, when p slices the set, each slice's quality
// metrics, sorted by slice.
func groupsOf(p *Policy, set *EvalSet, classes int, cand, st *outcome) []*group {
	pos := p.positiveClass()
	whole := &group{rows: set.Rows, judged: true, cand: quality(classes, pos, set.Labels, cand.out)}
	maps.Copy(whole.cand, cand.speed(set.Rows))
	if st != nil {
		whole.stable = quality(classes, pos, set.Labels, st.out)
		maps.Copy(whole.stable, st.speed(set.Rows))
	}
	groups := []*group{whole}
	if p.Slices == nil {
		return groups
	}
	k := max(1, classes)
	rows := make([][]int, len(set.SliceValues))
	for r, s := range set.SliceOf {
		rows[s] = append(rows[s], r)
	}
	for s, idx := range rows {
		g := &group{slice: p.Slices.Feature + "=" + set.SliceValues[s], rows: len(idx), judged: len(idx) >= p.Slices.minRows()}
		labels, out := rowsOf(idx, set.Labels, cand.out, k)
		g.cand = quality(classes, pos, labels, out)
		if st != nil {
			labels, out = rowsOf(idx, set.Labels, st.out, k)
			g.stable = quality(classes, pos, labels, out)
		}
		groups = append(groups, g)
	}
	slices.SortFunc(groups[1:], func(a, b *group) int { return cmp.Compare(a.slice, b.slice) })
	return groups
}

// fail makes v a failure for reason, and returns it.
func (v *Verdict) fail(reason string) *Verdict {
	v.Pass = false
	v.Reasons = []string{reason}
	return v
}

// NoEvalSet is the verdict for a candidate that has no evaluation set:
// a pass that says it was not evaluated when p does not require one, a
// failure otherwise. why says what is missing, such as "no eval.csv in
// fraud/4 or fraud", and begins the verdict's one reason.
func NoEvalSet(p Policy, candidate, why string) *Verdict {
	v := &Verdict{Candidate: candidate, Metrics: []Metric{}}
	name := cmp.Or(candidate, "the candidate")
	switch {
	case p.Required():
		return v.fail(why + ", and the gate policy requires an eval set.")
	case p.RequireEval != nil:
		v.Reasons = []string{fmt.Sprintf("%s; the gate policy does not require one, so %s passed without evaluation.", why, name)}
	default:
		v.Reasons = []string{fmt.Sprintf("%s; no thresholds require one, so %s passed without evaluation.", why, name)}
	}
	v.Pass = true
	return v
}

// Refuse is a failing verdict for a candidate whose evaluation could not
// start, with reason as its one sentence (such as a malformed eval set's
// error).
func Refuse(candidate, reason string) *Verdict {
	return (&Verdict{Candidate: candidate, Metrics: []Metric{}}).fail(reason)
}
