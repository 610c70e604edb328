package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/switchyard-ml/switchyard/rollout"
)

// rolloutFlags are serve's server-wide rollout defaults; a model's
// policy.yaml overrides them key by key.
type rolloutFlags struct {
	p     rollout.Policy
	steps string
}

func (r *rolloutFlags) register(fs *flag.FlagSet) {
	r.p = rollout.DefaultPolicy()
	fs.StringVar(&r.p.OnPublish, "on-publish", r.p.OnPublish, "what a newly published version does unless policy.yaml says: latest (it serves once its gate passes), canary, bluegreen, shadow or manual (nothing moves until a promote)")
	fs.StringVar(&r.steps, "rollout-steps", "", "canary steps, comma-separated basis points or percentages (default 500,2500,5000,10000)")
	fs.DurationVar(&r.p.Bake, "rollout-bake", r.p.Bake, "how long each canary step runs at least before it may advance")
	fs.IntVar(&r.p.MinRequests, "rollout-min-requests", r.p.MinRequests, "candidate requests between two analyses of a canary step")
	fs.Float64Var(&r.p.MaxErrorRateDelta, "rollout-max-error-rate-delta", r.p.MaxErrorRateDelta, "candidate error rate minus stable's, at most")
	fs.Float64Var(&r.p.MaxLatencyIncrease, "rollout-max-latency-increase", r.p.MaxLatencyIncrease, "candidate latency shift over stable's median, at most (0.2 is +20%)")
	fs.DurationVar(&r.p.MinLatencyDelta, "rollout-min-latency-delta", r.p.MinLatencyDelta, "latency shifts below this never roll back")
	fs.Float64Var(&r.p.MaxScorePSI, "rollout-max-score-psi", r.p.MaxScorePSI, "PSI of the candidate's scores against stable's, at most")
	fs.DurationVar(&r.p.Watch, "rollout-watch", r.p.Watch, "blue/green: how long the new stable is watched before it is final")
}

// policy returns the defaults the flags set, checked.
func (r *rolloutFlags) policy() (rollout.Policy, error) {
	p := r.p
	if r.steps != "" {
		p.Steps = nil
		for _, f := range strings.Split(r.steps, ",") {
			w, err := rollout.ParseWeight(strings.TrimSpace(f))
			if err != nil {
				return p, fmt.Errorf("--rollout-steps: %w", err)
			}
			p.Steps = append(p.Steps, w)
		}
	}
	if err := p.Validate(); err != nil {
		var pe *rollout.PolicyError
		if errors.As(err, &pe) {
			if flag, ok := rolloutFlagOf[pe.Field]; ok {
				return p, fmt.Errorf("--%s: %s", flag, pe.Problem)
			}
		}
		return p, fmt.Errorf("rollout flags: %w", err)
	}
	return p, nil
}

// rolloutFlagOf names the flag of each policy key the flags set.
var rolloutFlagOf = map[string]string{
	"on_publish": "on-publish", "steps": "rollout-steps", "bake": "rollout-bake", "min_requests": "rollout-min-requests",
	"max_error_rate_delta": "rollout-max-error-rate-delta", "max_latency_increase": "rollout-max-latency-increase",
	"min_latency_delta": "rollout-min-latency-delta", "max_score_psi": "rollout-max-score-psi", "watch": "rollout-watch",
}
