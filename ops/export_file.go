package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ExportFile is Export into the file at path, written whole or not at
// all: into a temporary file beside it, synced, then renamed over path,
// so that a reader (a retraining command, a person) never sees part of
// an export. The file is readable by its owner only (0600): it holds
// the model's inputs. On any error the temporary file is removed and
// path is left as it was.
func ExportFile(ctx context.Context, log PredictionReader, registryDir string, opts ExportOptions, path string) (ExportSummary, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return ExportSummary{}, fmt.Errorf("export %s: %w", opts.Model, err)
	}
	sum, err := Export(ctx, log, registryDir, opts, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return sum, errors.Join(fmt.Errorf("write %s: %w", path, err), removeTemp(f.Name()))
	}
	return sum, nil
}

// removeTemp removes a temporary file that is not wanted; one already
// gone is no error.
func removeTemp(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
