package modelstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/switchyard-ml/switchyard/internal/modelname"
)

// The file names of a version directory.
const (
	ModelFile    = "model.onnx"
	ManifestFile = "manifest.json"
	// EvalFile is the optional labelled evaluation set, a CSV file with a
	// header row.
	EvalFile = "eval.csv"
	// ProfileFile is the optional reference profile for drift (see
	// package drift), the only file a version may gain after its manifest.
	ProfileFile = "profile.json"
)

// ValidName reports whether name can be a model name: 1 to 64 characters
// from [A-Za-z0-9_.-], starting with a letter or digit, so that it is a safe
// URL path segment and directory name.
func ValidName(name string) bool { return modelname.Valid(name) }

// parseVersion returns the version number a directory name stands for, or
// false when it is not a positive decimal integer without leading zeros.
func parseVersion(name string) (int, bool) {
	if name == "" || name[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(name)
	return n, err == nil && n > 0
}

// listModels returns the names of the model directories in dir, sorted.
func listModels(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && ValidName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// listVersions returns the complete versions of a model directory (those
// with a manifest), ascending. All reports every numbered directory,
// complete or not.
func listVersions(modelDir string) (complete, all []int, err error) {
	entries, err := os.ReadDir(modelDir)
	if err != nil {
		return nil, nil, fmt.Errorf("read model directory: %w", err)
	}
	for _, e := range entries {
		n, ok := parseVersion(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		all = append(all, n)
		_, err := os.Stat(filepath.Join(modelDir, e.Name(), ManifestFile))
		switch {
		case err == nil:
			complete = append(complete, n)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("stat manifest: %w", err)
		}
	}
	slices.Sort(complete)
	slices.Sort(all)
	return complete, all, nil
}

// Versions lists the version directories of a model in the registry at
// dir: the complete ones (with a manifest) and all numbered ones, both
// ascending. A model that does not exist has none.
func Versions(dir, model string) (complete, all []int, err error) {
	complete, all, err = listVersions(filepath.Join(dir, model))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	return complete, all, err
}

// ModelNames returns the names of the models in the registry at dir,
// sorted: its subdirectories whose names are valid model names (hidden
// ones, such as the data directory .switchyard, are not).
func ModelNames(dir string) ([]string, error) {
	return listModels(dir)
}

// VersionDir returns the directory of version n of model in the registry
// at dir.
func VersionDir(dir, model string, n int) string {
	return filepath.Join(dir, model, strconv.Itoa(n))
}
