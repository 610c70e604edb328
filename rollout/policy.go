package rollout

import (
	"fmt"
	"math"
	"time"
)

// Limits on policy settings, to refuse values that are surely mistakes.
const (
	maxWindow            = 7 * 24 * time.Hour
	maxInconclusiveAfter = 100
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
	// OnPublish is the strategy a newly published version starts with:
	// Canary, BlueGreen, Shadow or Manual (key on_publish; default
	// Manual).
	OnPublish string
	// Steps are the candidate's weights in basis points, one per canary
	// step: strictly increasing, each in 1..FullWeight, the last
	// FullWeight (key steps; default 500, 2500, 5000, 10000).
	Steps []int
	// Bake is how long each canary step lasts at least before it is
	// judged (key bake; default 60s). It is also the window that
	// InconclusiveAfter counts.
	Bake time.Duration
	// MinRequests is how many requests the candidate must have answered
	// in a step (or in the bluegreen watch) before it is judged, and how
	// many the baseline must have for the comparisons that need one (key
	// min_requests; default 500).
	MinRequests int
	// KeepPrevious is how many ready versions below the stable one stay
	// loaded for an instant rollback (key keep_previous; default 1).
	KeepPrevious int
	// MaxErrorRateDelta is how far the candidate's error rate may exceed
	// the baseline's, as a fraction: 0.01 is one percentage point (key
	// max_error_rate_delta; default 0.01).
	MaxErrorRateDelta float64
	// MaxP99Ratio is how many times the baseline's p99 latency the
	// candidate's may be, at least 1 (key max_p99_ratio; default 1.5).
	MaxP99Ratio float64
	// MaxScorePSI bounds the population stability index between the
	// candidate's and the baseline's score histograms (key max_score_psi;
	// default 0.2, where a PSI above 0.2 is commonly read as a
	// significant shift).
	MaxScorePSI float64
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
	// InconclusiveAfter is how many windows (Bake for canary, Watch for
	// bluegreen) may pass without MinRequests before the decision is
	// Inconclusive (server-wide only, no policy.yaml key; default 3).
	InconclusiveAfter int
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
		OnPublish:         Manual,
		Steps:             []int{500, 2500, 5000, FullWeight},
		Bake:              60 * time.Second,
		MinRequests:       500,
		KeepPrevious:      1,
		MaxErrorRateDelta: 0.01,
		MaxP99Ratio:       1.5,
		MaxScorePSI:       0.2,
		MaxAccuracyDrop:   0.02,
		Watch:             5 * time.Minute,
		Shadow: ShadowPolicy{
			MinRequests:  1000,
			MinAgreement: 0.95,
			Then:         Manual,
		},
		InconclusiveAfter: 3,
	}
}

// Validate returns nil when p can be used, or a *PolicyError (wrapping
// ErrPolicy) that names the first bad setting by its policy.yaml key.
func (p Policy) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &PolicyError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	switch p.OnPublish {
	case Canary, BlueGreen, Shadow, Manual:
	default:
		return bad("on_publish", "%q: want canary, bluegreen, shadow or manual", p.OnPublish)
	}
	if err := validateSteps(p.Steps); err != nil {
		return err
	}
	switch {
	case p.Bake <= 0 || p.Bake > maxWindow:
		return bad("bake", "%v: must be above 0 and at most %v", p.Bake, maxWindow)
	case p.MinRequests < 1:
		return bad("min_requests", "%d: must be at least 1", p.MinRequests)
	case p.KeepPrevious < 0:
		return bad("keep_previous", "%d: must not be negative", p.KeepPrevious)
	case !(p.MaxErrorRateDelta >= 0 && p.MaxErrorRateDelta <= 1):
		return bad("max_error_rate_delta", "%v: must be a fraction between 0 and 1 (0.01 is one percentage point)", p.MaxErrorRateDelta)
	case !(p.MaxP99Ratio >= 1) || math.IsInf(p.MaxP99Ratio, 1):
		return bad("max_p99_ratio", "%v: must be a finite ratio of at least 1", p.MaxP99Ratio)
	case !(p.MaxScorePSI > 0) || math.IsInf(p.MaxScorePSI, 1):
		return bad("max_score_psi", "%v: must be finite and above 0", p.MaxScorePSI)
	case !(p.MaxAccuracyDrop >= 0 && p.MaxAccuracyDrop <= 1):
		return bad("max_accuracy_drop", "%v: must be a fraction between 0 and 1", p.MaxAccuracyDrop)
	case p.Watch <= 0 || p.Watch > maxWindow:
		return bad("watch", "%v: must be above 0 and at most %v", p.Watch, maxWindow)
	case p.Shadow.MinRequests < 1:
		return bad("shadow.min_requests", "%d: must be at least 1", p.Shadow.MinRequests)
	case !(p.Shadow.MinAgreement >= 0 && p.Shadow.MinAgreement <= 1):
		return bad("shadow.min_agreement", "%v: must be a fraction between 0 and 1", p.Shadow.MinAgreement)
	case p.InconclusiveAfter < 1 || p.InconclusiveAfter > maxInconclusiveAfter:
		return bad("inconclusive_after", "%d: must be between 1 and %d", p.InconclusiveAfter, maxInconclusiveAfter)
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
