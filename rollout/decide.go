package rollout

import (
	"fmt"
	"log/slog"
	"time"
)

// Progress is where a model's rollout stands, as Decide needs it: the
// controller fills it from the model's State.
type Progress struct {
	// Strategy is Canary, BlueGreen, Shadow or Manual.
	Strategy string
	// Step indexes Policy.Steps (canary only). A step outside the policy's
	// steps, after the policy lost some, counts as the nearest one.
	Step int
	// Weight is the candidate's share of traffic in basis points.
	Weight int
	// Paused stops the controller from acting on its own.
	Paused bool
	// StepStarted is when the current canary step, the bluegreen watch or
	// the shadow began, or was last resumed: bake and max_bake count from
	// it. After a restart the controller's counters start afresh, so it
	// passes the later of the state's UpdatedAt and the time its counters
	// began.
	StepStarted time.Time
	// AnalysedAt is how many requests the candidate had answered in the
	// window at the step's latest analysis (0 before the first); the
	// next is due at AnalysedAt + Policy.MinRequests.
	AnalysedAt uint64
	// Breaches is how many analyses in a row, up to the latest, breached
	// a bound; Passed reports that the latest analysis passed with the
	// power to see the tolerances.
	Breaches int
	Passed   bool
}

// Stats is what the arms did in the current step's window. It is a plain
// value; Decide only reads it.
type Stats struct {
	// Candidate is the candidate arm's counts over the window
	// (StatsSnapshot.Sub of the snapshot taken when the window began):
	// the error comparison uses all of them.
	Candidate StatsSnapshot
	// Stable is the baseline the candidate is held to: the stable arm's
	// counts over the same window while stable takes traffic. Once the
	// candidate takes all traffic (a canary's last step, the bluegreen
	// watch) stable answers nothing, and the controller passes instead the
	// stable arm's last window that had traffic, with BaselineEarlier
	// set. A baseline with fewer than 20 requests is too thin: the
	// candidate's error rate is then judged alone (as if stable never
	// failed).
	Stable StatsSnapshot
	// CandidateSamples and StableSamples are samples of each arm's
	// requests taken over the same span of time (at most MaxSamples
	// each), for the latency and score comparisons.
	CandidateSamples, StableSamples ArmSamples
	// BaselineEarlier reports that Stable and StableSamples come from an
	// earlier window than the candidate's: latency, which depends on the
	// moment's load, is then not compared.
	BaselineEarlier bool
	// CandidateAccuracy and StableAccuracy are each arm's live accuracy
	// from feedback, as fractions; nil (or NaN) while unknown. The
	// accuracy bound applies only when both are known.
	CandidateAccuracy, StableAccuracy *float64
	// Agreement is how the shadow compared with stable over the window
	// (shadow only).
	Agreement Agreement
}

// Decision is what Decide tells the controller to do, and why.
type Decision struct {
	// Action is what to do.
	Action Action
	// Strategy is the strategy the rollout continues under: unchanged,
	// except when a shadow hands over to its policy's Then.
	Strategy string
	// Step and Weight are the candidate's step and weight once the
	// decision is applied: unchanged for Hold and Inconclusive, the next
	// ones for Advance, the last step and FullWeight for Promote, and 0
	// for RollBack. Step means something for canary only.
	Step, Weight int
	// Reasons are sentences that carry the numbers, for the audit trail
	// and the status API: first the verdict, then each comparison, those
	// that breached a bound first. The slice is the caller's.
	Reasons []string
	// Measures are the comparisons behind the decision, with their
	// statistics, intervals, p-values and sample sizes; nil when none
	// was made. The slice is the caller's.
	Measures []Measure
	// Analysed reports that this decision counts as one of the step's
	// analyses: the controller then keeps AnalysedAt, Breaches and Passed
	// for the next call's Progress.
	Analysed   bool
	AnalysedAt uint64
	Breaches   int
	Passed     bool
}

// LogValue logs the decision as a group.
func (d Decision) LogValue() slog.Value {
	return slog.GroupValue(slog.String("action", d.Action.String()), slog.String("strategy", d.Strategy),
		slog.Int("step", d.Step), slog.Int("weight", d.Weight), slog.Bool("analysed", d.Analysed),
		slog.Int("breaches", d.Breaches), slog.Any("reasons", d.Reasons))
}

// Decide returns what the controller should do with a model's rollout,
// given its policy, where it stands, what the arms did since the current
// step began, and the time now. It is a pure function: it reads no clock,
// does no I/O, draws no random numbers and modifies none of its inputs,
// so the same inputs always give the same Decision.
//
// Paused, manual and unknown strategies hold, as does an invalid policy
// (the reason says why); otherwise:
//
//   - canary: each step is analysed whenever the candidate has answered
//     p.MinRequests more requests in it (see judge for the comparisons,
//     made on the same window of time for both arms). A breach must
//     repeat in p.FailureLimit analyses in a row before the candidate is
//     rolled back, unless it is critical (p.CriticalErrorRate): that
//     rolls back at once. Once p.Bake has passed and the latest analysis
//     passed, the candidate advances to the next step, or is promoted
//     after the last. A step without enough traffic extends up to
//     p.MaxBake; then it is judged with what it has if the latency test
//     has the power to see its tolerance, and is otherwise inconclusive,
//     saying how many requests it needs at the current rate.
//   - bluegreen: a candidate below FullWeight advances to it (the switch;
//     the controller decides only once the candidate is ready). The watch
//     that follows is analysed as a canary step is, against the previous
//     stable's last window (so errors and scores, not latency), and is
//     promoted once p.Watch has passed and its latest analysis passed.
//   - shadow: it holds until p.Shadow.MinRequests requests were compared
//     (never inconclusive: a shadow costs clients nothing). Agreement below
//     p.Shadow.MinAgreement rolls back (drops the shadow); otherwise
//     p.Shadow.Then decides: canary advances to step 0, bluegreen advances
//     to FullWeight, manual holds for a person.
//
// A now before Progress.StepStarted counts as no time elapsed.
func Decide(p Policy, pr Progress, st Stats, now time.Time) Decision {
	d := Decision{Action: Hold, Strategy: pr.Strategy, Step: pr.Step, Weight: pr.Weight}
	if err := p.Validate(); err != nil {
		return d.with(Hold, fmt.Sprintf("the policy cannot be used (%v): holding", err), nil)
	}
	if pr.Paused {
		return d.with(Hold, "paused: the controller holds until a person resumes or rolls back", nil)
	}
	elapsed := max(now.Sub(pr.StepStarted), 0)
	switch pr.Strategy {
	case Canary:
		return decideCanary(p, pr, st, elapsed)
	case BlueGreen:
		return decideBlueGreen(p, pr, st, elapsed)
	case Shadow:
		return decideShadow(p, pr, st, elapsed)
	case Manual:
		return d.with(Hold, "manual: the controller holds; a person promotes or rolls back", nil)
	}
	return d.with(Hold, fmt.Sprintf("unknown strategy %q: holding", pr.Strategy), nil)
}

// with returns d with action a and the reasons: verdict first, then the
// judgment's sentences and measures.
func (d Decision) with(a Action, verdict string, j *judgment) Decision {
	d.Action = a
	d.Reasons = []string{verdict}
	if j != nil {
		d.Reasons = append(d.Reasons, j.sentences()...)
		d.Measures = j.measures
	}
	switch a {
	case RollBack:
		d.Step, d.Weight = 0, 0
	case Promote:
		d.Weight = FullWeight
	}
	return d
}

// decideCanary decides a canary step (see Decide).
func decideCanary(p Policy, pr Progress, st Stats, elapsed time.Duration) Decision {
	last := len(p.Steps) - 1
	step := min(max(pr.Step, 0), last)
	d := Decision{Strategy: Canary, Step: step, Weight: pr.Weight}
	at := fmt.Sprintf("step %d (%s)", step, formatWeight(p.Steps[step]))
	return d.analysed(p, pr, st, elapsed, p.Bake, "bake", at, func(d Decision, j *judgment, n uint64) Decision {
		if step == last {
			d.Step = last
			return d.with(Promote, fmt.Sprintf("%s, the last, is healthy after %s with %d requests: promote",
				at, fmtDuration(elapsed), n), j)
		}
		d.Step, d.Weight = step+1, p.Steps[step+1]
		return d.with(Advance, fmt.Sprintf("%s is healthy after %s with %d requests: advance to step %d (%s)",
			at, fmtDuration(elapsed), n, step+1, formatWeight(p.Steps[step+1])), j)
	})
}

// decideBlueGreen decides a bluegreen switch and its watch (see Decide).
func decideBlueGreen(p Policy, pr Progress, st Stats, elapsed time.Duration) Decision {
	d := Decision{Strategy: BlueGreen, Step: pr.Step, Weight: pr.Weight}
	if pr.Weight < FullWeight {
		d.Weight = FullWeight
		return d.with(Advance, fmt.Sprintf("bluegreen: switch all traffic to the candidate (from %s); the previous stable stays loaded through the %s watch",
			formatWeight(pr.Weight), fmtDuration(p.Watch)), nil)
	}
	return d.analysed(p, pr, st, elapsed, p.Watch, "watch", "watch", func(d Decision, j *judgment, n uint64) Decision {
		return d.with(Promote, fmt.Sprintf("watch: the candidate is healthy %s after the switch with %d requests: promote",
			fmtDuration(elapsed), n), j)
	})
}

// analysed decides a step that bakes for at least bake (its policy key
// named by key) and is judged by analyses: at says which step, for the
// reasons, and healthy says what a healthy step leads to.
func (d Decision) analysed(p Policy, pr Progress, st Stats, elapsed, bake time.Duration, key, at string,
	healthy func(Decision, *judgment, uint64) Decision) Decision {
	n, every := st.Candidate.Requests, uint64(p.MinRequests)
	maxBake := max(p.MaxBake, bake)
	j := judge(p, st)
	d.AnalysedAt, d.Breaches, d.Passed = pr.AnalysedAt, pr.Breaches, pr.Passed
	if j.critical {
		d.Analysed, d.AnalysedAt, d.Breaches, d.Passed = true, n, pr.Breaches+1, false
		return d.with(RollBack, fmt.Sprintf("%s: the candidate breaches %s after %s with %d requests, critically: roll back at once",
			at, count(j.breaches(), "bound"), fmtDuration(elapsed), n), j)
	}
	pastMax := elapsed >= maxBake
	due := n >= every && n >= pr.AnalysedAt+every
	late := pastMax && n > pr.AnalysedAt && j.powered
	if due || late {
		d.Analysed, d.AnalysedAt = true, n
		switch {
		case j.breached:
			d.Breaches, d.Passed = pr.Breaches+1, false
			if d.Breaches >= p.FailureLimit {
				return d.with(RollBack, fmt.Sprintf("%s: the candidate breaches %s in %s in a row (failure_limit %d), after %s with %d requests: roll back",
					at, count(j.breaches(), "bound"), count(d.Breaches, "analysis"), p.FailureLimit, fmtDuration(elapsed), n), j)
			}
			return d.with(Hold, fmt.Sprintf("%s: the candidate breaches %s after %s with %d requests: analysis %d of failure_limit %d in a row; the next decides",
				at, count(j.breaches(), "bound"), fmtDuration(elapsed), n, d.Breaches, p.FailureLimit), j)
		case j.powered:
			d.Breaches, d.Passed = 0, true
		default:
			d.Passed = false // inconclusive: neither a pass nor a breach
		}
	}
	if elapsed < bake {
		return d.with(Hold, fmt.Sprintf("%s has baked %s of %s with %d requests on the candidate (next analysis at %d)",
			at, fmtDuration(elapsed), fmtDuration(bake), n, nextAnalysis(d.AnalysedAt, every)), j)
	}
	if d.Passed && j.breached {
		// The latest analysis passed, but the requests since show a
		// breach: the next analysis decides, not the bake.
		return d.with(Hold, fmt.Sprintf("%s has baked %s and its latest analysis passed, but with %d more requests since, the window shows a breach; the next analysis, at %d, decides",
			at, fmtDuration(elapsed), n-d.AnalysedAt, nextAnalysis(d.AnalysedAt, every)), j)
	}
	if d.Passed {
		return healthy(d, j, n)
	}
	if !pastMax {
		return d.with(Hold, fmt.Sprintf("%s has baked %s with %d requests on the candidate and no passing analysis yet (next at %d); max_bake %s, then it is judged with what it has",
			at, fmtDuration(elapsed), n, nextAnalysis(d.AnalysedAt, every), fmtDuration(maxBake)), j)
	}
	if d.Breaches > 0 && j.powered {
		return d.with(Hold, fmt.Sprintf("%s has baked %s (max_bake %s) after a breach: the next request's analysis decides",
			at, fmtDuration(elapsed), fmtDuration(maxBake)), j)
	}
	want := max(j.need, uint64(minAnalysisSamples))
	return d.with(Inconclusive, fmt.Sprintf("%s has baked %s (max_bake %s) with %d requests on the candidate: too little traffic to judge; %s",
		at, fmtDuration(elapsed), fmtDuration(maxBake), n, needed(n, want, elapsed)), j)
}

// nextAnalysis returns the candidate's request count at which the next
// analysis is due.
func nextAnalysis(analysedAt, every uint64) uint64 {
	if analysedAt == 0 {
		return every
	}
	return analysedAt + every
}

// needed says how many requests the latency test needs and how long that
// takes at the rate the candidate had so far (n in elapsed).
func needed(n, want uint64, elapsed time.Duration) string {
	s := fmt.Sprintf("the analysis needs about %d requests on the candidate to see its tolerances", want)
	if n == 0 || elapsed <= 0 {
		return s + ", and the candidate has answered none"
	}
	rate := float64(n) / elapsed.Seconds()
	more := time.Duration(float64(want-min(n, want)) / rate * float64(time.Second))
	return fmt.Sprintf("%s, about %s more at the current %.2f requests/s; resume keeps these counts and waits another max_bake",
		s, fmtDuration(more.Round(time.Second)), rate)
}

// decideShadow decides a shadow and what follows it (see Decide).
func decideShadow(p Policy, pr Progress, st Stats, elapsed time.Duration) Decision {
	d := Decision{Strategy: Shadow, Step: pr.Step, Weight: pr.Weight}
	g, need := st.Agreement, uint64(p.Shadow.MinRequests)
	if g.Compared < need {
		return d.with(Hold, fmt.Sprintf("shadow: %d of %d requests compared in %s (agreement so far %s)",
			g.Compared, need, fmtDuration(elapsed), percent(g.Rate())), nil)
	}
	summary := fmt.Sprintf("shadow: agreement %s over %d requests (mean absolute score difference %.3f)",
		percent(g.Rate()), g.Compared, g.MeanAbsScoreDiff())
	if g.Rate() < p.Shadow.MinAgreement {
		return d.with(RollBack, fmt.Sprintf("%s is below min_agreement %s: drop the shadow",
			summary, percent(p.Shadow.MinAgreement)), nil)
	}
	summary = fmt.Sprintf("%s meets min_agreement %s", summary, percent(p.Shadow.MinAgreement))
	switch p.Shadow.Then {
	case Canary:
		d.Strategy, d.Step, d.Weight = Canary, 0, p.Steps[0]
		return d.with(Advance, fmt.Sprintf("%s; then canary: start step 0 (%s)", summary, formatWeight(p.Steps[0])), nil)
	case BlueGreen:
		d.Strategy, d.Step, d.Weight = BlueGreen, 0, FullWeight
		return d.with(Advance, summary+"; then bluegreen: switch all traffic to the candidate", nil)
	}
	return d.with(Hold, summary+"; then manual: awaiting a person to promote or roll back", nil)
}
