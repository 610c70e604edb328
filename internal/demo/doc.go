// Package demo makes switchyard's demo models: fraud classifiers for card
// transactions, trained in Go on synthetic data, so the demo needs no Python
// and no downloads.
//
// It owns the synthetic dataset and its schema, two trainings on it, and
// their export to ONNX:
//
//   - Generate draws transaction records of NumFeatures named fields,
//     which Features describes (name, type, bounds, a category's values,
//     a description, the field's columns in the models' input): six
//     numbers and integers (amount, hour, distance_from_home_km,
//     transactions_last_24h, card_age_days, avg_amount_30d), a bool
//     (card_present) and two categories (merchant_category, country).
//     Encode turns a record into one row of the models' input: the
//     numbers and the bool as they are, each category as a one-hot block,
//     InputWidth columns in all.
//   - Train fits a logistic regression in float64 on the standardised
//     input by Newton's method; Classifier.LogReg exports it as an
//     internal/onnx binary LogReg with the standardisation folded into
//     the weights. BuildFraud makes the demo's first version from it.
//   - TrainNet fits a neural network (one hidden layer of ReLU units) by
//     mini-batch Adam; Net.MLP exports it as an internal/onnx MLP, the
//     standardisation folded into the hidden layer, and MLPClassifier adds
//     the label output. It bends and combines where the data's hidden rule
//     does (an amount far above the card's usual one, night-time and
//     foreign purchases without the card, a card less than two months
//     old), so BuildFraudNet's model, the demo's second version, scores a
//     clearly higher AUC and a lower log loss on the same held-out rows.
//
// The world can change under the models, as it does in production:
// GenerateShifted draws transactions from the same distributions but
// labels them by a rule where fraud has moved (small online purchases of
// digital goods from French merchants become fraud; foreign purchases
// without the card stop being a sign of it), so the second version's
// accuracy falls by about 0.06 while a drift monitor sees nothing.
// ReadCSV reads labelled rows back from WriteCSV's files or from an
// export of logged predictions (switchyard export), HoldOut keeps every
// fifth for evaluation, and BuildRetrained trains the network again on
// the original training set plus the recent rows, weighted twice as
// much, which wins the accuracy back (world_test.go has the figures).
//
// Both models take InputName, FP32 [N,InputWidth], and output LabelName,
// INT64 [N], and ProbabilitiesName, FP32 [N,2], whose classes Classes
// names ([P(legit), P(fraud)]). WriteCSV writes held-out rows for
// evaluating them, each field as a client of the records API sends it
// (a category as its value, a bool as true or false), and AppendJSON
// writes one record as the records API's JSON.
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
//	// write v1.Model and v2.Model as model.onnx of two versions, with
//	// a schema made from demo.Features() and demo.Classes()
//	err = demo.WriteCSV(evalFile, v1.Eval) // header: field names, label
package demo
