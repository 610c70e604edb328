package rollout

import (
	"fmt"
	"math"
	"time"
)

// Limits on policy settings, to refuse values that are surely mistakes.
const (
	maxWindow       = 7 * 24 * time.Hour
	maxFailureLimit = 100
)

// Policy is how a model's new versions reach traffic and what the
// controller holds them to: policy.yaml's rollout block applied over the
// server's defaults. Each field's comment gives its policy.yaml key and
// its default (DefaultPolicy).
//
// The zero Policy is not valid (a zero bound is a legitimate, strict
// setting, so zero cannot mean "default"): start from DefaultPolicy and
// override, then Validate. A Policy is a plain value; Steps is the only
// field shared by copies, and it must not be modified once the Policy is
// in use.
type Policy struct {
	// OnPublish is what a newly published version does once it passes
	// its gate (key on_publish; default Latest): Latest (it serves, when
	// no rollout.json pins another), Canary, BlueGreen or Shadow (the
	// controller starts that rollout), or Manual (nothing moves until a
	// person promotes; the first version of a model with nothing serving
	// still serves).
	OnPublish string
	// Steps are the candidate's weights in basis points, one per canary
	// step: strictly increasing, each in 1..FullWeight, the last
	// FullWeight (key steps; default 500, 2500, 5000, 10000).
	Steps []int
	// Bake is how long each canary step lasts at least before it may
	// advance (key bake; default 60s).
	Bake time.Duration
	// MaxBake is how long a step (or the bluegreen watch) may extend
	// beyond Bake (or Watch) while it waits for MinRequests; then it is
	// judged with what it has if the latency test has the power to see
	// its tolerance, and is otherwise inconclusive: the rollout pauses
	// with how many requests it needs. A MaxBake below Bake counts as
	// Bake (key max_bake; default 10m).
	MaxBake time.Duration
	// MinRequests is how many requests the candidate answers between two
	// analyses of a step: the first analysis comes at MinRequests, the
	// next at twice as many, and so on (key min_requests; default 200).
	MinRequests int
	// FailureLimit is how many analyses in a row must breach a bound
	// before the candidate is rolled back; a critical breach
	// (CriticalErrorRate) rolls back at once (key failure_limit; default
	// 2).
	FailureLimit int
	// KeepPrevious is how many ready versions below the stable one stay
	// loaded for an instant rollback (key keep_previous; default 1).
	KeepPrevious int
	// MaxErrorRateDelta is how far the candidate's error rate may exceed
	// the baseline's, as a fraction: 0.01 is one percentage point (key
	// max_error_rate_delta; default 0.01). It is breached only when the
	// whole confidence interval of the difference lies above it.
	MaxErrorRateDelta float64
	// CriticalErrorRate is an error rate that rolls the candidate back at
	// once, without waiting for FailureLimit analyses: when even the
	// lower bound of its error rate's confidence interval exceeds it
	// (key critical_error_rate; default 0.2, one request in five).
	CriticalErrorRate float64
	// MaxLatencyIncrease is how much slower than the baseline the
	// candidate may be, relative to the baseline's median latency: 0.2 is
	// +20% (key max_latency_increase; default 0.2). The shift judged is
	// the Hodges–Lehmann shift of the candidate's latencies against the
	// baseline's in the same window, and a breach needs its whole
	// confidence interval above the larger of this and MinLatencyDelta.
	MaxLatencyIncrease float64
	// MinLatencyDelta is the absolute floor under latency tolerance: a
	// shift smaller than it is never a breach, however significant (key
	// min_latency_delta; default 1ms).
	MinLatencyDelta time.Duration
	// MaxScorePSI bounds the population stability index between the
	// candidate's and the baseline's scores in the same window, beyond
	// what sampling noise gives at their sizes; a breach also needs a
	// significant chi-squared test (key max_score_psi; default 0.2,
	// where a PSI above 0.2 is commonly read as a significant shift).
	MaxScorePSI float64
	// MinScoreShift is the absolute floor under the score comparison:
	// scores that moved less than this on average (the Wasserstein
	// distance between the arms' scores, in [0, 1]) never breach,
	// however their buckets differ (key min_score_shift; default 0.05).
	MinScoreShift float64
	// MaxAccuracyDrop is how much lower, as a fraction, the candidate's
	// accuracy may be than the baseline's; used only when both are known
	// (key max_accuracy_drop; default 0.02).
	MaxAccuracyDrop float64
	// Watch is how long after a bluegreen switch the controller keeps
	// comparing the candidate with the previous stable and may still roll
	// back (key watch; default 5m).
	Watch time.Duration
	// Shadow is what a shadow rollout needs before it moves on.
	Shadow ShadowPolicy
}

// ShadowPolicy is the shadow block of a rollout policy.
type ShadowPolicy struct {
	// MinRequests is how many requests must have been answered by both
	// stable and the shadow before agreement is judged (key
	// shadow.min_requests; default 1000).
	MinRequests int
	// MinAgreement is the least share, in [0, 1], of compared requests
	// on which the shadow gives stable's label (key shadow.min_agreement;
	// default 0.95).
	MinAgreement float64
	// Then is what follows an agreeing shadow: Canary (start step 0),
	// BlueGreen (switch all traffic) or Manual (hold for a person) (key
	// shadow.then; default Manual).
	Then string
}

// DefaultPolicy returns the documented defaults, with a Steps slice of its
// own that the caller may keep or change.
func DefaultPolicy() Policy {
	return Policy{
		OnPublish:          Latest,
		Steps:              []int{500, 2500, 5000, FullWeight},
		Bake:               60 * time.Second,
		MaxBake:            10 * time.Minute,
		MinRequests:        200,
		FailureLimit:       2,
		KeepPrevious:       1,
		MaxErrorRateDelta:  0.01,
		CriticalErrorRate:  0.2,
		MaxLatencyIncrease: 0.2,
		MinLatencyDelta:    time.Millisecond,
		MaxScorePSI:        0.2,
		MinScoreShift:      0.05,
		MaxAccuracyDrop:    0.02,
		Watch:              5 * time.Minute,
		Shadow: ShadowPolicy{
			MinRequests:  1000,
			MinAgreement: 0.95,
			Then:         Manual,
		},
	}
}

// Validate returns nil when p can be used, or a *PolicyError (wrapping
// ErrPolicy) that names the first bad setting by its policy.yaml key.
func (p Policy) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &PolicyError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	switch p.OnPublish {
	case Latest, Canary, BlueGreen, Shadow, Manual:
	default:
		return bad("on_publish", "%q: want latest, canary, bluegreen, shadow or manual", p.OnPublish)
	}
	if err := validateSteps(p.Steps); err != nil {
		return err
	}
	switch {
	case p.Bake <= 0 || p.Bake > maxWindow:
		return bad("bake", "%v: must be above 0 and at most %v", p.Bake, maxWindow)
	case p.MaxBake < 0 || p.MaxBake > maxWindow:
		return bad("max_bake", "%v: must not be negative and at most %v", p.MaxBake, maxWindow)
	case p.MinRequests < minAnalysisSamples:
		return bad("min_requests", "%d: must be at least %d (fewer cannot be judged)", p.MinRequests, minAnalysisSamples)
	case p.FailureLimit < 1 || p.FailureLimit > maxFailureLimit:
		return bad("failure_limit", "%d: must be between 1 and %d", p.FailureLimit, maxFailureLimit)
	case p.KeepPrevious < 0:
		return bad("keep_previous", "%d: must not be negative", p.KeepPrevious)
	case !(p.MaxErrorRateDelta >= 0 && p.MaxErrorRateDelta <= 1):
		return bad("max_error_rate_delta", "%v: must be a fraction between 0 and 1 (0.01 is one percentage point)", p.MaxErrorRateDelta)
	case !(p.CriticalErrorRate > 0 && p.CriticalErrorRate <= 1):
		return bad("critical_error_rate", "%v: must be a fraction above 0 and at most 1", p.CriticalErrorRate)
	case !(p.MaxLatencyIncrease >= 0) || math.IsInf(p.MaxLatencyIncrease, 1):
		return bad("max_latency_increase", "%v: must be a finite fraction of at least 0 (0.2 is +20%%)", p.MaxLatencyIncrease)
	case p.MinLatencyDelta < 0 || p.MinLatencyDelta > time.Minute:
		return bad("min_latency_delta", "%v: must not be negative and at most 1m", p.MinLatencyDelta)
	case !(p.MaxScorePSI > 0) || math.IsInf(p.MaxScorePSI, 1):
		return bad("max_score_psi", "%v: must be finite and above 0", p.MaxScorePSI)
	case !(p.MinScoreShift >= 0 && p.MinScoreShift <= 1):
		return bad("min_score_shift", "%v: must be between 0 and 1", p.MinScoreShift)
	case !(p.MaxAccuracyDrop >= 0 && p.MaxAccuracyDrop <= 1):
		return bad("max_accuracy_drop", "%v: must be a fraction between 0 and 1", p.MaxAccuracyDrop)
	case p.Watch <= 0 || p.Watch > maxWindow:
		return bad("watch", "%v: must be above 0 and at most %v", p.Watch, maxWindow)
	case p.Shadow.MinRequests < 1:
		return bad("shadow.min_requests", "%d: must be at least 1", p.Shadow.MinRequests)
	case !(p.Shadow.MinAgreement >= 0 && p.Shadow.MinAgreement <= 1):
		return bad("shadow.min_agreement", "%v: must be a fraction between 0 and 1", p.Shadow.MinAgreement)
	}
	switch p.Shadow.Then {
	case Canary, BlueGreen, Manual:
	default:
		return bad("shadow.then", "%q: want canary, bluegreen or manual", p.Shadow.Then)
	}
	return nil
}

// validateSteps checks a canary's steps.
func validateSteps(steps []int) error {
	bad := func(format string, args ...any) error {
		return &PolicyError{Field: "steps", Problem: fmt.Sprintf(format, args...)}
	}
	if len(steps) == 0 {
		return bad("none given: want increasing weights ending at %d basis points", FullWeight)
	}
	for i, w := range steps {
		switch {
		case w < 1 || w > FullWeight:
			return bad("step %d is %d basis points: must be between 1 and %d", i, w, FullWeight)
		case i > 0 && w <= steps[i-1]:
			return bad("step %d (%d) is not above step %d (%d): steps must increase", i, w, i-1, steps[i-1])
		}
	}
	if last := steps[len(steps)-1]; last != FullWeight {
		return bad("the last step is %d basis points: must be %d (all traffic)", last, FullWeight)
	}
	return nil
}
