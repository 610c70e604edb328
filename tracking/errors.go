package tracking

import "errors"

var (
	// ErrNotFound is wrapped when an experiment, run, dataset or other
	// record named by id or name does not exist.
	ErrNotFound = errors.New("tracking: not found")
	// ErrExists is wrapped when a record to be created already exists,
	// such as an experiment of the same name.
	ErrExists = errors.New("tracking: already exists")
	// ErrInvalid is wrapped when a value breaks a rule: a key or value
	// too long, a batch over its limits, a param whose value would
	// change, a malformed filter, an operation on a deleted run.
	ErrInvalid = errors.New("tracking: invalid value")
	// ErrClosed is returned by every method once the Store is closed.
	ErrClosed = errors.New("tracking: store closed")
	// ErrNoSpace is wrapped by Artifacts.Put when the disk (or the
	// user's quota) is full: the upload may succeed once space is freed.
	ErrNoSpace = errors.New("tracking: no space left for artifacts")
)
