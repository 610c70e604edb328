package respcache

import "errors"

// ErrConfig is wrapped by New when its Config is invalid.
var ErrConfig = errors.New("respcache: invalid config")
