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
	// the shadow began, and so where the window that Stats covers starts.
	// After a restart the controller's counters start afresh, so it
	// passes the later of the state's UpdatedAt and the time its counters
	// began: the step bakes again from there rather than being judged on
	// counts that miss most of it.
	StepStarted time.Time
}

// Stats is what the arms did in the window that starts at
// Progress.StepStarted. It is a plain value; Decide only reads it.
type Stats struct {
	// Candidate is the candidate arm's counts over the window
	// (StatsSnapshot.Sub of the snapshot taken when the window began).
	Candidate StatsSnapshot
	// Stable is the baseline the candidate is held to: the stable arm's
	// counts over the same window while stable takes traffic. Once the
	// candidate takes all traffic (a canary's last step, the bluegreen
	// watch) stable answers nothing, and the controller passes instead the
	// stable arm's last window that had traffic. A baseline with fewer
	// than Policy.MinRequests requests is too thin: the candidate's error
	// rate is then judged alone (as if stable never failed), and the p99
	// and score comparisons are skipped.
	Stable StatsSnapshot
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
}

// LogValue logs the decision as a group.
func (d Decision) LogValue() slog.Value {
	return slog.GroupValue(slog.String("action", d.Action.String()), slog.String("strategy", d.Strategy),
		slog.Int("step", d.Step), slog.Int("weight", d.Weight), slog.Any("reasons", d.Reasons))
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
//   - canary: once the candidate has p.MinRequests requests in the step it
//     is compared with the baseline (error rate delta, p99 ratio, score
//     PSI, accuracy drop when known), and any breach rolls back at once,
//     even before the bake ends. Until p.Bake has passed it holds. Then a
//     healthy candidate advances to the next step, or is promoted after
//     the last. A step that has baked p.InconclusiveAfter times p.Bake
//     without p.MinRequests is inconclusive.
//   - bluegreen: a candidate below FullWeight advances to it (the switch;
//     the controller decides only once the candidate is ready). After the
//     switch it is compared with the previous stable's last window as soon
//     as it has p.MinRequests requests, and a breach rolls back; once
//     p.Watch has passed without one it is promoted. A watch that has run
//     p.InconclusiveAfter times p.Watch without p.MinRequests is
//     inconclusive.
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
// analysis's sentences.
func (d Decision) with(a Action, verdict string, an *analysis) Decision {
	d.Action = a
	d.Reasons = []string{verdict}
	if an != nil {
		d.Reasons = append(append(d.Reasons, an.breaches...), an.notes...)
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
	n, need := st.Candidate.Requests, uint64(p.MinRequests)
	var an *analysis
	if n >= need {
		an = analyse(p, st)
		if len(an.breaches) > 0 {
			return d.with(RollBack, fmt.Sprintf("%s: the candidate breaches %s after %s with %d requests: roll back",
				at, count(len(an.breaches), "bound"), fmtDuration(elapsed), n), an)
		}
	}
	if elapsed < p.Bake {
		return d.with(Hold, fmt.Sprintf("%s has baked %s of %s with %d requests on the candidate (min_requests %d)",
			at, fmtDuration(elapsed), fmtDuration(p.Bake), n, need), an)
	}
	if n < need {
		limit := p.Bake * time.Duration(p.InconclusiveAfter)
		if elapsed >= limit {
			return d.with(Inconclusive, fmt.Sprintf("%s has baked %s (inconclusive_after %s of %s) with %d of %d requests on the candidate: too little traffic to judge",
				at, fmtDuration(elapsed), count(p.InconclusiveAfter, "bake"), fmtDuration(p.Bake), n, need), nil)
		}
		return d.with(Hold, fmt.Sprintf("%s has baked %s but the candidate has %d of %d requests; inconclusive at %s",
			at, fmtDuration(elapsed), n, need, fmtDuration(limit)), nil)
	}
	if step == last {
		d.Step = last
		return d.with(Promote, fmt.Sprintf("%s, the last, is healthy after %s with %d requests: promote",
			at, fmtDuration(elapsed), n), an)
	}
	d.Step, d.Weight = step+1, p.Steps[step+1]
	return d.with(Advance, fmt.Sprintf("%s is healthy after %s with %d requests: advance to step %d (%s)",
		at, fmtDuration(elapsed), n, step+1, formatWeight(p.Steps[step+1])), an)
}

// decideBlueGreen decides a bluegreen switch and its watch (see Decide).
func decideBlueGreen(p Policy, pr Progress, st Stats, elapsed time.Duration) Decision {
	d := Decision{Strategy: BlueGreen, Step: pr.Step, Weight: pr.Weight}
	if pr.Weight < FullWeight {
		d.Weight = FullWeight
		return d.with(Advance, fmt.Sprintf("bluegreen: switch all traffic to the candidate (from %s); the previous stable stays loaded through the %s watch",
			formatWeight(pr.Weight), fmtDuration(p.Watch)), nil)
	}
	n, need := st.Candidate.Requests, uint64(p.MinRequests)
	var an *analysis
	if n >= need {
		an = analyse(p, st)
		if len(an.breaches) > 0 {
			return d.with(RollBack, fmt.Sprintf("watch: the candidate breaches %s %s after the switch with %d requests: roll back to the previous stable",
				count(len(an.breaches), "bound"), fmtDuration(elapsed), n), an)
		}
	}
	if elapsed < p.Watch {
		return d.with(Hold, fmt.Sprintf("watch: %s of %s since the switch with %d requests on the candidate (min_requests %d)",
			fmtDuration(elapsed), fmtDuration(p.Watch), n, need), an)
	}
	if n < need {
		limit := p.Watch * time.Duration(p.InconclusiveAfter)
		if elapsed >= limit {
			return d.with(Inconclusive, fmt.Sprintf("watch: %s since the switch (inconclusive_after %s of %s) with %d of %d requests on the candidate: too little traffic to judge",
				fmtDuration(elapsed), count(p.InconclusiveAfter, "watch"), fmtDuration(p.Watch), n, need), nil)
		}
		return d.with(Hold, fmt.Sprintf("watch: %s since the switch but the candidate has %d of %d requests; inconclusive at %s",
			fmtDuration(elapsed), n, need, fmtDuration(limit)), nil)
	}
	return d.with(Promote, fmt.Sprintf("watch: the candidate is healthy %s after the switch with %d requests: promote",
		fmtDuration(elapsed), n), an)
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
