package gate

import (
	"context"
	"errors"
)

// Run evaluates candidate and, when stable is not nil, stable on set in
// the same run, under p's bounds on batch size and concurrency, and
// judges the candidate: the sanity checks, then p's thresholds, absolute
// and against stable. A candidate that cannot be run fails with the
// reason; a stable version that cannot be run fails the candidate only
// when p has a regression threshold, since it cannot then be compared.
// Run returns an error only when ctx ends first.
func Run(ctx context.Context, p Policy, set *EvalSet, candidate Subject, stable *Subject) (*Verdict, error) {
	return nil, errors.New("gate.Run: not implemented yet")
}

// NoEvalSet is the verdict for a candidate that has no evaluation set:
// a pass that says it was not evaluated when p does not require one, a
// failure otherwise. why says what is missing, such as "no eval.csv in
// fraud/4 or fraud".
func NoEvalSet(p Policy, candidate, why string) *Verdict {
	return nil
}

// Refuse is a failing verdict for a candidate whose evaluation could not
// start, with reason as its one sentence (such as a malformed eval set's
// error).
func Refuse(candidate, reason string) *Verdict {
	return nil
}
