// Package gate decides whether a newly loaded model version is good enough to
// be routed. Issue 17 gives it the evaluation harness: reading an evaluation
// set (eval.csv), running the version and the stable version on it through a
// Predictor interface that gate declares, in bounded batches, computing
// metrics, applying sanity checks and the thresholds of policy.yaml, and
// returning a Verdict whose reasons are sentences for the audit log and the
// status API. Loading versions and their lifecycle stay with modelstore,
// persisting verdicts stays with tracking, and HTTP stays with server.
//
// This first part holds the evaluation set's reader (ReadEvalSet, whose
// errors name the line and column) and the metric functions: pure functions of float64
// and int slices that read their arguments, never modify or retain them, and
// keep no state, so they are safe for concurrent use. Classification metrics
// take class labels as ints; the binary ones (AUC, Brier, ECE) take 1 as the
// positive class and 0 as the negative one. Regression metrics take the true
// and predicted values.
//
// Functions that return an error report empty input with ErrEmpty and slices
// of different lengths with ErrLength. Functions that return no error never
// panic: they return NaN for empty input, for slices of different lengths and
// for the other cases their documentation lists, and NaN values in their
// inputs propagate to the result.
//
// A caller scores a binary classifier like this:
//
//	auc, err := gate.AUC(labels, scores)
//	if errors.Is(err, gate.ErrDegenerate) {
//		// the evaluation set holds a single class: AUC says nothing
//	}
//	brier := gate.Brier(labels, scores)
//	ece := gate.ECE(labels, scores, 10)
package gate
