// Package demo makes switchyard's demo model: a fraud classifier for card
// transactions, trained in Go on synthetic data, so the demo needs no Python
// and no downloads.
//
// It owns the synthetic dataset (Generate, whose columns FeatureNames
// lists), the training (Train, a logistic regression fitted in float64 on
// standardised features), and the export (Classifier.LogReg, with the
// standardisation folded into the weights so the model takes raw features).
// The model is an internal/onnx binary LogReg: input "features" FP32
// [N,8], outputs label INT64 [N] and probabilities FP32 [N,2]. WriteCSV
// writes held-out rows for evaluating it.
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
//	train, test := demo.Generate(seed, 20000).Split(16000)
//	c, err := demo.Train(train)
//	if err != nil {
//		return err
//	}
//	model := c.LogReg().Model().Marshal() // write as model.onnx
//	err = demo.WriteCSV(evalFile, test)   // header: feature names, label
package demo
