package rollout

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// tolerance absorbs floating-point rounding when a figure is compared with
// its bound, so that a figure exactly at its bound is within it.
const tolerance = 1e-9

// The judgment's fixed settings.
const (
	// Confidence is the two-sided confidence of every interval an
	// analysis reports; a one-sided breach then holds at 99.5%.
	Confidence = 0.99
	// minAnalysisSamples is the fewest requests per arm a latency or
	// error comparison is made on.
	minAnalysisSamples = 20
	// minScoreSamples is the fewest scores per arm the score comparison
	// is made on: below it, PSI over 20 buckets is mostly noise.
	minScoreSamples = 100
	// MaxSamples is how many requests per arm and window the controller
	// keeps for the latency and score comparisons (a uniform sample of
	// the window when there were more).
	MaxSamples = 2000
)

// The verdicts of a Measure.
const (
	VerdictPass         = "pass"
	VerdictBreach       = "breach"
	VerdictCritical     = "critical"
	VerdictInconclusive = "inconclusive" // compared, but too few requests to see the tolerance
	VerdictNotEnough    = "not_enough_data"
	VerdictNotCompared  = "not_compared"
)

// Measure is one comparison of an analysis, with the numbers it rests
// on, for the audit trail, the status output and the admin API. Every
// figure is finite (0 when it does not apply).
type Measure struct {
	// Name is latency, error_rate, score_psi or accuracy.
	Name string `json:"name"`
	// Verdict is one of the Verdict constants.
	Verdict string `json:"verdict"`
	// Candidate and Baseline are the sample sizes compared.
	Candidate int `json:"n_candidate"`
	Baseline  int `json:"n_baseline"`
	// Statistic is the test's statistic: Mann–Whitney U for latency, the
	// z of the one-sided difference for errors, chi-squared for scores.
	Statistic float64 `json:"statistic"`
	// Estimate is the effect: the latency shift in seconds, the error
	// rate difference, the score PSI beyond noise, the accuracy drop.
	// Low and High bound it at Confidence (latency and errors); for
	// scores both hold how far the scores moved (Wasserstein distance).
	Estimate float64 `json:"estimate"`
	Low      float64 `json:"ci_low"`
	High     float64 `json:"ci_high"`
	// P is the test's p-value.
	P float64 `json:"p_value"`
	// Bound is the tolerance Estimate is held to, in its unit.
	Bound float64 `json:"bound"`
	// Text says the same as a sentence.
	Text string `json:"text"`
}

// ArmSamples is a bounded sample of an arm's requests over a window, for
// the latency and score comparisons. Decide only reads it.
type ArmSamples struct {
	// Latencies are the successful requests' latencies, in nanoseconds.
	Latencies []int64
	// Scores are their first predictions' scores (NaN for none).
	Scores []float32
}

// judgment is an analysis of a candidate against its baseline.
type judgment struct {
	measures []Measure
	// breached: some measure breached; critical: one is critical.
	breached, critical bool
	// powered: the latency test (when made) could see its tolerance.
	powered bool
	// need is how many candidate requests in the window would give the
	// latency test that power; 0 when it has it.
	need uint64
}

// sentences returns the measures' texts, breaches first.
func (j *judgment) sentences() []string {
	var out, rest []string
	for _, m := range j.measures {
		if m.Verdict == VerdictBreach || m.Verdict == VerdictCritical {
			out = append(out, m.Text)
		} else {
			rest = append(rest, m.Text)
		}
	}
	return append(out, rest...)
}

// breaches counts the measures that breached.
func (j *judgment) breaches() int {
	n := 0
	for _, m := range j.measures {
		if m.Verdict == VerdictBreach || m.Verdict == VerdictCritical {
			n++
		}
	}
	return n
}

// judge compares st's candidate with its baseline under p's bounds.
func judge(p Policy, st Stats) *judgment {
	j := &judgment{powered: true}
	errs := judgeErrors(p, st)
	if errs.Verdict == VerdictNotEnough {
		j.powered, j.need = false, minAnalysisSamples
	}
	j.add(errs)
	lat, need := judgeLatency(p, st)
	if lat.Verdict == VerdictInconclusive || lat.Verdict == VerdictNotEnough {
		j.powered, j.need = false, max(j.need, need)
	}
	j.add(lat)
	sc := judgeScores(p, st)
	acc, labelled := judgeAccuracy(p, st)
	if sc.Verdict == VerdictBreach {
		// Scores that moved are a proxy for worse answers; where labels
		// say how good the answers are, they judge instead. A retrained
		// model's scores move with the world it learned.
		switch {
		case labelled && acc.Verdict == VerdictPass:
			sc.Verdict = VerdictPass
			sc.Text += "; accepted, since live accuracy from labels finds the candidate no worse"
		case known(st.StableAccuracy) && !known(st.CandidateAccuracy):
			sc.Verdict = VerdictNotEnough
			sc.Text += "; held until the candidate's live accuracy, from labels, says whether it answers worse"
		}
	}
	if sc.Verdict == VerdictNotEnough {
		// The model gives scores but too few yet, or labels are awaited:
		// a pass must wait for them, or for max_bake.
		j.powered, j.need = false, max(j.need, minScoreSamples)
	}
	j.add(sc)
	if labelled {
		j.add(acc)
	}
	return j
}

// judgeAccuracy compares the arms' live accuracy from labels, when both
// are known (labelled).
func judgeAccuracy(p Policy, st Stats) (m Measure, labelled bool) {
	ca, sa := st.CandidateAccuracy, st.StableAccuracy
	if !known(ca) || !known(sa) {
		return m, false
	}
	drop := *sa - *ca
	m = Measure{Name: "accuracy", Verdict: VerdictPass, Estimate: drop, Bound: p.MaxAccuracyDrop}
	if drop > p.MaxAccuracyDrop+tolerance {
		m.Verdict = VerdictBreach
	}
	m.Text = fmt.Sprintf("accuracy %.3f on the candidate against %.3f on stable (drop %.3f) %s max_accuracy_drop %.3f",
		*ca, *sa, drop, within(m.Verdict), p.MaxAccuracyDrop)
	return m, true
}

func (j *judgment) add(m Measure) {
	j.measures = append(j.measures, m)
	switch m.Verdict {
	case VerdictCritical:
		j.critical, j.breached = true, true
	case VerdictBreach:
		j.breached = true
	}
}

// within says how a figure stands against its bound.
func within(verdict string) string {
	if verdict == VerdictBreach || verdict == VerdictCritical {
		return "exceeds"
	}
	return "is within"
}

// judgeErrors compares the arms' error rates: the candidate breaches when
// the whole confidence interval of the difference lies above
// MaxErrorRateDelta, and is critical when, besides, the lower bound of
// its own error rate exceeds CriticalErrorRate.
func judgeErrors(p Policy, st Stats) Measure {
	c, b := st.Candidate, st.Stable
	m := Measure{Name: "error_rate", Candidate: int(c.Requests), Baseline: int(b.Requests), Bound: p.MaxErrorRateDelta}
	if c.Requests < minAnalysisSamples {
		m.Verdict = VerdictNotEnough
		m.Text = fmt.Sprintf("error rate not compared: the candidate has %d of %d requests", c.Requests, minAnalysisSamples)
		return m
	}
	low := rateLow(c.Errors, c.Requests, Confidence)
	var what string
	if b.Requests < minAnalysisSamples {
		// A thin baseline: the candidate is judged alone, as if stable
		// never failed.
		m.Estimate, m.Low, m.High = c.ErrorRate(), low, c.ErrorRate()
		m.Verdict = VerdictPass
		if low > p.MaxErrorRateDelta+tolerance {
			m.Verdict = VerdictBreach
		}
		what = fmt.Sprintf("error rate %s on the candidate (%d of %d requests; %.0f%% lower bound %s), judged alone since stable has %d requests,",
			percent(c.ErrorRate()), c.Errors, c.Requests, Confidence*100, percent(low), b.Requests)
	} else {
		t := CompareRates(c.Errors, c.Requests, b.Errors, b.Requests, p.MaxErrorRateDelta, Confidence)
		m.Estimate, m.Low, m.High, m.P = t.Diff, t.Low, t.High, t.P
		m.Statistic = t.Z
		m.Verdict = VerdictPass
		if t.Low > p.MaxErrorRateDelta+tolerance {
			m.Verdict = VerdictBreach
		}
		what = fmt.Sprintf("error rate %s on the candidate against %s on stable (%d and %d requests; difference %s, %.0f%% CI %s to %s, p %s)",
			percent(c.ErrorRate()), percent(b.ErrorRate()), c.Requests, b.Requests, pp(t.Diff), Confidence*100, pp(t.Low), pp(t.High), fmtP(t.P))
	}
	if m.Verdict == VerdictBreach && low > p.CriticalErrorRate+tolerance {
		m.Verdict = VerdictCritical
		m.Text = fmt.Sprintf("%s exceeds critical_error_rate %s (lower bound %s): critical", what, percent(p.CriticalErrorRate), percent(low))
		return m
	}
	m.Text = fmt.Sprintf("%s %s max_error_rate_delta %s", what, within(m.Verdict), pp(p.MaxErrorRateDelta))
	return m
}

// judgeLatency compares the arms' latencies in the same window: the
// candidate breaches when the whole confidence interval of the
// Hodges–Lehmann shift lies above the tolerance, the larger of
// MaxLatencyIncrease times stable's median and MinLatencyDelta. A test
// whose interval is wider than twice the tolerance cannot see it: it is
// inconclusive, and the second result estimates how many candidate
// requests would make it conclusive.
func judgeLatency(p Policy, st Stats) (Measure, uint64) {
	c, b := st.CandidateSamples.Latencies, st.StableSamples.Latencies
	m := Measure{Name: "latency", Candidate: len(c), Baseline: len(b)}
	if st.BaselineEarlier {
		m.Verdict = VerdictNotCompared
		m.Text = "latency not compared: stable answers no traffic now, and latency is compared only in the same window"
		return m, 0
	}
	if len(c) < minAnalysisSamples || len(b) < minAnalysisSamples {
		m.Verdict = VerdictNotEnough
		m.Text = fmt.Sprintf("latency not compared: %d and %d successful requests on the candidate and stable in the same window, %d of each needed",
			len(c), len(b), minAnalysisSamples)
		return m, minAnalysisSamples
	}
	t := MannWhitney(c, b, Confidence)
	med := median(b)
	tol := max(p.MaxLatencyIncrease*med, float64(p.MinLatencyDelta))
	sec := func(ns float64) float64 { return ns / 1e9 }
	m.Statistic, m.P = t.U, t.P
	m.Estimate, m.Low, m.High, m.Bound = sec(t.Shift), sec(t.Low), sec(t.High), sec(tol)
	figure := fmt.Sprintf("latency shift %s on the candidate against stable (Hodges–Lehmann, %.0f%% CI %s to %s; Mann–Whitney U %.0f, p %s; %d and %d requests in the same window)",
		fmtNS(t.Shift), Confidence*100, fmtNS(t.Low), fmtNS(t.High), t.U, fmtP(t.P), len(c), len(b))
	bound := fmt.Sprintf("the tolerance %s (max_latency_increase %s of stable's median %s, at least min_latency_delta %s)",
		fmtNS(tol), percent(p.MaxLatencyIncrease), fmtNS(med), fmtDuration(p.MinLatencyDelta))
	var need uint64
	switch half := (t.High - t.Low) / 2; {
	case t.Low > tol*(1+tolerance):
		m.Verdict = VerdictBreach
	case half > tol:
		m.Verdict = VerdictInconclusive
		r := half / tol
		need = uint64(math.Ceil(float64(len(c)) * r * r))
		figure += fmt.Sprintf(" cannot yet tell whether it is within %s: about %d requests on the candidate would", bound, need)
		m.Text = "latency inconclusive: " + figure
		return m, need
	default:
		m.Verdict = VerdictPass
	}
	m.Text = fmt.Sprintf("%s %s %s", figure, within(m.Verdict), bound)
	return m, need
}

// judgeScores compares the arms' score distributions in the same window:
// the candidate breaches when their PSI, beyond what sampling noise gives
// at these sizes, exceeds MaxScorePSI and a chi-squared test finds the
// difference significant.
func judgeScores(p Policy, st Stats) Measure {
	t := CompareScores(st.CandidateSamples.Scores, st.StableSamples.Scores)
	m := Measure{Name: "score_psi", Candidate: t.N, Baseline: t.M, Bound: p.MaxScorePSI}
	switch {
	case t.N == 0 && t.M == 0:
		m.Verdict = VerdictNotCompared
		m.Text = "score PSI not compared: no scores recorded"
		return m
	case st.BaselineEarlier && t.M < minScoreSamples:
		m.Verdict = VerdictNotCompared
		m.Text = fmt.Sprintf("score PSI not compared: stable's last window has %d of %d scores", t.M, minScoreSamples)
		return m
	}
	if t.N < minScoreSamples || t.M < minScoreSamples {
		m.Verdict = VerdictNotEnough
		m.Text = fmt.Sprintf("score PSI not compared: %d and %d scores on the candidate and stable, %d of each needed (fewer are noise, not drift)",
			t.N, t.M, minScoreSamples)
		return m
	}
	m.Statistic, m.Estimate, m.P = t.ChiSquare, t.Excess, t.P
	m.Low, m.High = t.Distance, t.Distance
	m.Verdict = VerdictPass
	figure := fmt.Sprintf("score PSI %.3f between the candidate and stable, %.3f beyond sampling noise (chi-squared %.1f, %d df, p %s; %d and %d scores; scores moved %.3f on average)",
		t.PSI, t.Excess, t.ChiSquare, t.DF, fmtP(t.P), t.N, t.M, t.Distance)
	switch {
	case t.Excess > p.MaxScorePSI+tolerance && t.P < 1-Confidence && t.Distance > p.MinScoreShift+tolerance:
		m.Verdict = VerdictBreach
		m.Text = fmt.Sprintf("%s exceeds max_score_psi %.3f and min_score_shift %.3f", figure, p.MaxScorePSI, p.MinScoreShift)
	case t.Excess > p.MaxScorePSI+tolerance && t.P < 1-Confidence:
		m.Text = fmt.Sprintf("%s exceeds max_score_psi %.3f but the scores moved less than min_score_shift %.3f", figure, p.MaxScorePSI, p.MinScoreShift)
	default:
		m.Text = fmt.Sprintf("%s is within max_score_psi %.3f", figure, p.MaxScorePSI)
	}
	return m
}

// median returns the median of xs, which it does not modify.
func median(xs []int64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return (float64(s[n/2-1]) + float64(s[n/2])) / 2
}

// fmtNS writes nanoseconds as a duration rounded to three digits, signed.
func fmtNS(ns float64) string {
	if ns < 0 {
		return "-" + fmtDuration(time.Duration(-ns))
	}
	return fmtDuration(time.Duration(ns))
}

// pp writes a difference of fractions in percentage points.
func pp(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) + " pp" }

// fmtP writes a p-value with two significant digits.
func fmtP(p float64) string { return strconv.FormatFloat(p, 'g', 2, 64) }

// known reports whether an accuracy is given and not NaN.
func known(acc *float64) bool { return acc != nil && !math.IsNaN(*acc) }

// percent writes a fraction as a percentage with two decimals.
func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) + "%" }

// count writes n and a noun, in the plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	switch noun {
	case "watch":
		return strconv.Itoa(n) + " watches"
	case "analysis":
		return strconv.Itoa(n) + " analyses"
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
