package rollout

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// tolerance absorbs floating-point rounding when a figure is compared with
// its bound, so that a figure exactly at its bound is within it.
const tolerance = 1e-9

// analysis is the comparison of a candidate with its baseline: sentences
// for the bounds it breached, and for the rest (within their bounds, or
// not compared and why), in a fixed order.
type analysis struct {
	breaches, notes []string
}

// add files a sentence on a bound: "<figure> exceeds <bound>" when
// breached, else "<figure> is within <bound>".
func (a *analysis) add(breached bool, figure, bound string) {
	if breached {
		a.breaches = append(a.breaches, figure+" exceeds "+bound)
	} else {
		a.notes = append(a.notes, figure+" is within "+bound)
	}
}

// analyse compares st.Candidate with the baseline st.Stable under p's
// bounds (see Stats.Stable for a thin baseline).
func analyse(p Policy, st Stats) *analysis {
	var a analysis
	c, b := st.Candidate, st.Stable
	need := uint64(p.MinRequests)
	thin := b.Requests < need
	bound := fmt.Sprintf("max_error_rate_delta %.2f pp", p.MaxErrorRateDelta*100)
	if thin {
		a.add(c.ErrorRate() > p.MaxErrorRateDelta+tolerance,
			fmt.Sprintf("error rate %s on the candidate, judged alone (stable has %d of %d requests),", percent(c.ErrorRate()), b.Requests, need), bound)
	} else {
		a.add(c.ErrorRate()-b.ErrorRate() > p.MaxErrorRateDelta+tolerance,
			fmt.Sprintf("error rate %s on the candidate against %s on stable", percent(c.ErrorRate()), percent(b.ErrorRate())), bound)
	}

	cp, sp := c.P99(), b.P99()
	switch {
	case thin:
		a.notes = append(a.notes, fmt.Sprintf("p99 not compared: stable has %d of %d requests", b.Requests, need))
	case cp == 0 || sp == 0:
		a.notes = append(a.notes, "p99 not compared: no latencies recorded")
	default:
		ratio := float64(cp) / float64(sp)
		a.add(ratio > p.MaxP99Ratio+tolerance,
			fmt.Sprintf("p99 %s on the candidate against %s on stable (ratio %.2f)", fmtDuration(cp), fmtDuration(sp), ratio),
			fmt.Sprintf("max_p99_ratio %.2f", p.MaxP99Ratio))
	}

	cs, ss := c.Scores.Total(), b.Scores.Total()
	switch {
	case cs < need:
		a.notes = append(a.notes, fmt.Sprintf("score PSI not compared: the candidate recorded %d of %d scores", cs, need))
	case ss < need:
		a.notes = append(a.notes, fmt.Sprintf("score PSI not compared: stable recorded %d of %d scores", ss, need))
	default:
		psi := PSI(b.Scores, c.Scores)
		a.add(psi > p.MaxScorePSI+tolerance,
			fmt.Sprintf("score PSI %.3f between the candidate and stable", psi), fmt.Sprintf("max_score_psi %.3f", p.MaxScorePSI))
	}

	if ca, sa := st.CandidateAccuracy, st.StableAccuracy; known(ca) && known(sa) {
		drop := *sa - *ca
		a.add(drop > p.MaxAccuracyDrop+tolerance,
			fmt.Sprintf("accuracy %.3f on the candidate against %.3f on stable (drop %.3f)", *ca, *sa, drop),
			fmt.Sprintf("max_accuracy_drop %.3f", p.MaxAccuracyDrop))
	}
	return &a
}

// known reports whether an accuracy is given and not NaN.
func known(acc *float64) bool { return acc != nil && !math.IsNaN(*acc) }

// percent writes a fraction as a percentage with two decimals.
func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) + "%" }

// count writes n and a noun, in the plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if noun == "watch" {
		return strconv.Itoa(n) + " watches"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// fmtDuration writes d rounded to three significant digits: 4.06ms, 1m1s.
func fmtDuration(d time.Duration) string {
	u := time.Duration(1)
	for d/u >= 1000 && u < time.Hour {
		u *= 10
	}
	return d.Round(u).String()
}
