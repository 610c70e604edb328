package quality

import "errors"

var (
	// ErrRecord is returned (wrapped, saying what is wrong) by Window.Add
	// when a record does not fit the window's kind: a probability row of
	// the wrong width or that is not a probability vector, a label out of
	// range, a NaN value, or a label time before the prediction time.
	ErrRecord = errors.New("quality: invalid record")

	// ErrWindow is returned (wrapped) by NewWindow when its Config is
	// invalid, and by Window.Report when the count of predictions it is
	// given is negative or smaller than the count of labelled ones.
	ErrWindow = errors.New("quality: invalid window")

	// ErrCalibration is returned (wrapped, saying what is wrong) by Fit
	// when the reference scores and labels cannot be calibrated, and by
	// ParseCalibration when the stored calibration is malformed.
	ErrCalibration = errors.New("quality: invalid calibration")

	// ErrScores is returned (wrapped, naming the row) by Estimate when it
	// is given no scores or a NaN score.
	ErrScores = errors.New("quality: invalid scores")

	// ErrBound is returned (wrapped) by CheckDrop when the bound is not a
	// fraction between 0 and 1 or a figure is NaN.
	ErrBound = errors.New("quality: invalid bound")
)
