package rollout

import (
	"path/filepath"

	"github.com/switchyard-ml/switchyard/internal/regfile"
)

// MaxStateBytes bounds a rollout.json: 1 MiB. A state is a few hundred
// bytes; a larger file, or one that is not a regular file (a FIFO, a
// device such as /dev/zero), is refused before it is read.
const MaxStateBytes = 1 << 20

// ReadStateFile returns the bytes of the rollout.json in a model
// directory, held to MaxStateBytes. The error wraps fs.ErrNotExist when
// there is none, and otherwise names the file and why it was refused.
// The slice is the caller's.
func ReadStateFile(modelDir string) ([]byte, error) {
	return regfile.Read(filepath.Join(modelDir, StateFile),
		regfile.Limit{Max: MaxStateBytes, Remedy: "a rollout.json is a few hundred bytes: this is not one"})
}
