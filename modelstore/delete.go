package modelstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DeleteModel removes the named model from the registry at dir: its
// directory is first renamed out of a watcher's sight (to a hidden
// ".deleted-NAME-TIME" beside it), so that a store drains its versions at
// once and never sees half a directory, then removed. It fails with
// ErrNotFound when the model has no directory. Once the rename is done the
// model is deleted; if the removal then fails, DeleteModel returns a
// *LeftoverError naming what is left to remove by hand.
func DeleteModel(dir, name string) error {
	modelDir := filepath.Join(dir, name)
	if fi, err := os.Stat(modelDir); !ValidName(name) || errors.Is(err, fs.ErrNotExist) || err == nil && !fi.IsDir() {
		return fmt.Errorf("delete model %q: %w", name, ErrNotFound)
	}
	gone := filepath.Join(dir, fmt.Sprintf(".deleted-%s-%d", name, time.Now().UnixNano()))
	if err := os.Rename(modelDir, gone); err != nil {
		return fmt.Errorf("delete model %q: %w", name, err)
	}
	if err := os.RemoveAll(gone); err != nil {
		return &LeftoverError{Path: gone, Err: err}
	}
	return nil
}

// LeftoverError is returned by DeleteModel when the model is deleted (out
// of the registry's sight) but its renamed directory was not fully
// removed.
type LeftoverError struct {
	// Path is the hidden directory left behind.
	Path string
	// Err is why it could not be removed.
	Err error
}

// Error says what is left behind and why.
func (e *LeftoverError) Error() string {
	return fmt.Sprintf("model deleted, but its directory %s was not fully removed: %v", e.Path, e.Err)
}

// Unwrap returns the removal's error.
func (e *LeftoverError) Unwrap() error { return e.Err }
