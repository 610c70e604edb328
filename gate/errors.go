package gate

import "errors"

var (
	// ErrEmpty is returned by AUC, MacroAUC and LogLoss when they are given
	// no rows.
	ErrEmpty = errors.New("gate: empty input")

	// ErrLength is returned by AUC, MacroAUC and LogLoss when the labels and
	// the scores or probabilities differ in length, or when probability rows
	// differ in width.
	ErrLength = errors.New("gate: length mismatch")

	// ErrDegenerate is returned (wrapped) by AUC and MacroAUC when fewer than
	// two classes are present among the labels, so that no positive can be
	// ranked against a negative.
	ErrDegenerate = errors.New("gate: fewer than two classes present")

	// ErrNaN is returned (wrapped, naming the row) by AUC and MacroAUC when a
	// score is NaN.
	ErrNaN = errors.New("gate: NaN score")

	// ErrNotProbabilities is returned (wrapped, naming the row) by LogLoss
	// when a row holds a negative or NaN value or does not sum to 1 within
	// 1e-3.
	ErrNotProbabilities = errors.New("gate: not a probability vector")

	// ErrLabel is returned (wrapped, naming the row) by AUC when a label is
	// neither 0 nor 1, and by MacroAUC and LogLoss when a label is not the
	// index of a column of the probability rows.
	ErrLabel = errors.New("gate: label out of range")

	// ErrEvalSet is returned (wrapped, naming the line and, where there is
	// one, the column) by ReadEvalSet when the evaluation set is malformed or
	// does not fit its EvalConfig, and (wrapped) when the EvalConfig itself is
	// invalid.
	ErrEvalSet = errors.New("gate: malformed eval set")
)
