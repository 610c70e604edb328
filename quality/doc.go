// Package quality measures how well a model version does once it serves:
// live quality over windows of labelled predictions, and, before labels
// arrive, quality estimated from the scores alone by confidence-based
// performance estimation (CBPE, as NannyML defines it).
//
// It owns:
//
//   - Window, which accumulates labelled predictions (scores, label,
//     prediction time, label time), bounded by count and by age, and
//     reports accuracy, ROC AUC and log loss for classifiers, RMSE and MAE
//     for regressors, the label delay (median and p90) and the share of
//     predictions labelled;
//   - Calibration, an isotonic regression fitted on the reference
//     (evaluation set) scores by Fit, stored as JSON beside profile.json
//     under CalibrationFile, and applied like scikit-learn's
//     IsotonicRegression(out_of_bounds="clip");
//   - Estimate, which turns a window of unlabelled positive-class scores
//     into the expected accuracy and expected ROC AUC;
//   - CheckDrop, which says whether a live or estimated figure fell below
//     its reference by more than a policy's bound;
//   - Monitor, the live quality sidecar built on the above: fed the logged
//     predictions (Predicted, the prediction log's OnWrite) and the labels
//     joined to them (Labelled) by non-blocking hand-offs, it keeps each
//     serving version's windows in one goroutine (Run), judges them at the
//     interval of the model's Policy, exports gauges, raises alarms
//     (accuracy_drop, estimated_accuracy_drop) against the gate's offline
//     accuracy and answers Report, Reports and Accuracy (rollout.Accuracy).
//
// Everything but Monitor is pure: no I/O beyond encoding, no goroutines,
// no clocks (times are passed in). The metrics themselves come from gate
// (AUC, Accuracy, LogLoss, RMSE, MAE), so live and offline figures are
// computed by the same code. The monitor learns what a version is from a
// Versions the server provides, and reads the prediction log through
// History; it imports neither the server nor the model store.
//
// A typical loop:
//
//	cal, err := quality.Fit(refScores, refLabels) // at publish
//	data, _ := cal.Marshal()                        // stored as CalibrationFile
//	...
//	w, err := quality.NewWindow(quality.Config{Kind: quality.Binary, MaxCount: 1000, MaxAge: time.Hour})
//	err = w.Add(quality.Record{Probs: []float64{0.2, 0.8}, Label: 1, PredictedAt: t0, LabelledAt: t1})
//	rep, err := w.Report(now, predictedInWindow)
//	est, err := quality.Estimate(cal, unlabelledScores)
//	alarm, err := quality.CheckDrop(refAccuracy, est.Accuracy, policyBound)
package quality
