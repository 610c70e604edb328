package rollout

import "errors"

var (
	// ErrPolicy is wrapped by Policy.Validate, through a *PolicyError that
	// names the bad setting, and by ParseWeight when a weight cannot be
	// read.
	ErrPolicy = errors.New("rollout: invalid policy")
	// ErrState is wrapped by ParseState, ReadState, Validate, WriteState
	// and the Plan functions when a rollout.json is malformed or
	// contradicts itself or the versions that exist.
	ErrState = errors.New("rollout: invalid rollout.json")
)

// PolicyError says which rollout setting is invalid and why. Policy.Validate
// returns it; errors.Is(err, ErrPolicy) holds for it.
type PolicyError struct {
	// Field is the setting's key in policy.yaml, such as "steps" or
	// "shadow.min_agreement".
	Field string
	// Problem says what is wrong with its value, such as "0: must be
	// between 1 and 100".
	Problem string
}

// Error reads "rollout: invalid failure_limit: 0: must be between 1 and 100".
func (e *PolicyError) Error() string {
	return "rollout: invalid " + e.Field + ": " + e.Problem
}

// Unwrap returns ErrPolicy.
func (e *PolicyError) Unwrap() error { return ErrPolicy }
