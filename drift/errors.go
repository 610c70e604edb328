package drift

import "errors"

var (
	// ErrProfile is wrapped by ParseProfile when a profile.json is
	// malformed or inconsistent, and by BuildProfile when its input cannot
	// make one (an empty or misnamed column, a kind that does not fit its
	// data). The error names the column and what is wrong.
	ErrProfile = errors.New("drift: invalid profile")
	// ErrCompare is wrapped by Compare when it cannot judge a column: no
	// current values, a kind that differs from the reference's, or a test
	// that does not apply to the column.
	ErrCompare = errors.New("drift: cannot compare")
	// ErrTest is wrapped by Compare when an Override names a test this
	// package does not know or gives a negative threshold.
	ErrTest = errors.New("drift: unknown test")
)
