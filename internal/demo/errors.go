package demo

import "errors"

var (
	// ErrEmpty is returned by Train when the training set has no rows.
	ErrEmpty = errors.New("demo: empty training set")
	// ErrOneClass is returned by Train when every training label is the
	// same, so there is nothing to separate.
	ErrOneClass = errors.New("demo: training set has only one class")
)
