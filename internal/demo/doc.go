// Package demo makes switchyard's demo models: fraud classifiers for card
// transactions, trained in Go on synthetic data, so the demo needs no Python
// and no downloads.
//
// It owns the synthetic dataset (Generate, whose columns FeatureNames
// lists), two trainings on it, and their export to ONNX:
//
//   - Train fits a logistic regression in float64 on standardised
//     features by Newton's method; Classifier.LogReg exports it as an
//     internal/onnx binary LogReg with the standardisation folded into the
//     weights. BuildFraud makes the demo's first version from it.
//   - TrainNet fits a neural network (one hidden layer of ReLU units) by
//     mini-batch Adam; Net.MLP exports it as an internal/onnx MLP, the
//     standardisation folded into the hidden layer, and MLPClassifier adds
//     the label output. It bends where the data's hidden rule does (at
//     night, along log amounts and distances), so BuildFraudNet's model, the
//     demo's second version, scores a clearly higher AUC and a lower log
//     loss on the same held-out rows.
//
// Both models take InputName, FP32 [N,8] of raw features, and output
// LabelName, INT64 [N], and ProbabilitiesName, FP32 [N,2] ([P(legitimate),
// P(fraud)]). WriteCSV writes held-out rows for evaluating them.
//
// The package does no I/O of its own and knows no file layout: callers
// marshal the model and give WriteCSV an io.Writer. Everything is
// deterministic, so the same seed makes the same model bytes on every
// machine of the same architecture; Fraud.Params lists the settings a
// tracking run records to train it again. Functions keep no state and
// are safe for concurrent use.
//
// Usage:
//
//	v1, err := demo.BuildFraud(seed)    // logistic regression
//	if err != nil {
//		return err
//	}
//	v2, err := demo.BuildFraudNet(seed) // the better network
//	if err != nil {
//		return err
//	}
//	// write v1.Model and v2.Model as model.onnx of two versions
//	err = demo.WriteCSV(evalFile, v1.Eval) // header: feature names, label
package demo
