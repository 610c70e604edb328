package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ORTVersion is the onnxruntime release whose C API this package speaks.
const ORTVersion = "1.24.1"

// CachePath returns where `make ort` puts the shared library for this
// machine's architecture, relative to the repository root.
func CachePath() string {
	arch := "x64"
	if runtime.GOARCH == "arm64" {
		arch = "arm64"
	}
	return filepath.Join(".cache", "ort", ORTVersion, "linux-"+arch, "libonnxruntime.so.1")
}

// LocateLibrary returns the path of onnxruntime's shared library. A non-empty
// explicit path (from a flag or the environment) is used as is and must
// exist. Otherwise CachePath is looked for in the working directory, the
// executable's directory and each of their parents. The error wraps
// ErrLibraryNotFound and tells the user how to get the library.
func LocateLibrary(explicit string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("%w at %s: run `make ort` or fix --ort-lib / SWITCHYARD_ORT_LIB", ErrLibraryNotFound, explicit)
		}
		return explicit, nil
	}
	rel := CachePath()
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			p := filepath.Join(dir, rel)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("%w (looked for %s): run `make ort`, or pass --ort-lib / set SWITCHYARD_ORT_LIB", ErrLibraryNotFound, rel)
}

var initState struct {
	sync.Mutex
	path string
}

// Init loads onnxruntime from the shared library at path and creates the
// process-wide environment. It may be called again with the same path, which
// does nothing; a different path is an error, since onnxruntime can be loaded
// only once per process. Safe for concurrent use.
func Init(path string) error {
	initState.Lock()
	defer initState.Unlock()
	if initState.path != "" {
		if initState.path != path {
			return errors.New("engine: onnxruntime already initialized from " + initState.path)
		}
		return nil
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("engine: load onnxruntime from %s: %w", path, err)
	}
	if v := ort.GetVersion(); v != ORTVersion {
		_ = ort.DestroyEnvironment()
		return fmt.Errorf("engine: %s is onnxruntime %s, want %s: run `make ort`", path, v, ORTVersion)
	}
	initState.path = path
	return nil
}
