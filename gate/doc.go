// Package gate decides whether a model version is good enough to take
// traffic. It reads an evaluation set (eval.csv), runs the candidate
// version and, when one serves, the stable version on it, computes their
// metrics, applies the sanity checks and the thresholds of the gate block
// of policy.yaml, and returns a Verdict: pass or fail, every number for
// both versions, and every reason as a sentence, ready for the audit log,
// the status API and, rendered by Verdict.Markdown, a CI log.
//
// It owns:
//
//   - ReadEvalSet, whose errors name the line and column of what is wrong,
//     and Policy.EvalConfig, which says how to read a set under a policy;
//   - the metric functions (AUC, MacroAUC, Accuracy, PrecisionRecallF1,
//     MacroF1, WeightedF1, LogLoss, Brier, ECE, RMSE, MAE, R2);
//   - Run, which evaluates and judges, and NoEvalSet and Refuse, the
//     verdicts of a candidate that could not be evaluated;
//   - the Predictor interface through which a model runs, and
//     SessionPredictor, its implementation over an engine.Session, with
//     LayoutOf, which finds the features and predictions in a model's
//     signature.
//
// Loading versions and their lifecycle stay with modelstore, which
// implements Predictor over a loaded version; persisting verdicts stays
// with tracking, and HTTP with server. gate imports engine only.
//
// The metric functions are pure functions of float64 and int slices that
// read their arguments, never modify or retain them, and keep no state.
// Classification metrics take class labels as ints; the binary ones (AUC,
// Brier, ECE) take 1 as the positive class and 0 as the negative one.
// Regression metrics take the true and predicted values. Functions that
// return an error report empty input with ErrEmpty and slices of different
// lengths with ErrLength. Functions that return no error never panic: they
// return NaN for empty input, for slices of different lengths and for the
// other cases their documentation lists, and NaN values in their inputs
// propagate to the result.
//
// Concurrency: everything in the package is safe for concurrent use and
// keeps no package-level state. Run starts at most Policy.Concurrency
// goroutines per version, calling Predict from each, and joins them all
// before it returns, the first Predict error, panic or end of its context
// stopping the batches not yet started. The versions run one after the
// other, so a gate puts at most Policy.Concurrency batches of
// Policy.BatchRows rows on the machine at once, leaving the other cores to
// live traffic.
//
// Reasons count the rows of an evaluation set from 1, after the header.
//
// switchyard eval gates a model file against another like this:
//
//	cfg := policy.EvalConfig(label, layout.Classes, layout.Width, nil)
//	set, err := gate.ReadEvalSet(f, cfg)
//	if err != nil {
//		verdict = gate.Refuse("challenger", err.Error())
//	} else {
//		candidate := gate.Subject{Name: "challenger", Classes: layout.Classes,
//			Width: layout.Width, Predictor: gate.SessionPredictor(session, layout)}
//		verdict, err = gate.Run(ctx, policy, set, candidate, &champion)
//		if err != nil {
//			return err // ctx ended, or a bug in the arguments
//		}
//	}
//	fmt.Print(verdict.Markdown())
//
// and a single metric is computed like this:
//
//	auc, err := gate.AUC(labels, scores)
//	if errors.Is(err, gate.ErrDegenerate) {
//		// the evaluation set holds a single class: AUC says nothing
//	}
package gate
