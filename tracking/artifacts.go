package tracking

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
)

// Artifacts is the artifact store: files that runs log, kept under one
// directory (<data-dir>/artifacts) at the paths MLflow's artifact proxy
// uses (EXPERIMENT/RUN/artifacts/...). Every access goes through an
// os.Root, so no path, however written and whatever symlinks lie in the
// directory, reaches a file outside it.
//
// Its methods are safe for concurrent use; a file being uploaded appears
// under its name only once complete.
type Artifacts struct {
	root *os.Root
}

// ArtifactFile is one entry of an artifact directory.
type ArtifactFile struct {
	// Name is the entry's name in its directory.
	Name  string
	IsDir bool
	// Size is the file's size in bytes; 0 for a directory.
	Size int64
}

// OpenArtifacts opens (creating if need be) the artifact store at dir.
func OpenArtifacts(dir string) (*Artifacts, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tracking: artifacts: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("tracking: artifacts: %w", err)
	}
	return &Artifacts{root: root}, nil
}

// ArtifactsIn returns the files below root as an artifact store, such as
// a model version's directory for the artifact proxy to read. The store
// owns root: its Close closes it.
func ArtifactsIn(root *os.Root) *Artifacts { return &Artifacts{root: root} }

// Close releases the store's directory.
func (a *Artifacts) Close() error { return a.root.Close() }

// Dir returns the store's directory.
func (a *Artifacts) Dir() string { return a.root.Name() }

// cleanPath checks an artifact path as MLflow's proxy does (no ".."
// segment, not absolute, no backslash, '#' or NUL) and returns it
// cleaned; "" and "." name the root.
func cleanPath(p string) (string, error) {
	if p == "" {
		return ".", nil
	}
	bad := strings.ContainsAny(p, "\\#\x00") || path.IsAbs(p)
	for _, seg := range strings.Split(p, "/") {
		bad = bad || seg == ".."
	}
	if bad {
		return "", fmt.Errorf("%w: invalid artifact path '%s'", ErrInvalid, p)
	}
	return path.Clean(p), nil
}

// Put stores what r yields as the file at p, creating directories, and
// returns its size. The bytes go to disk as they are read, so memory use
// does not grow with the file: into a temporary file beside p (named
// .upload-*, which List hides), synced and then renamed into place, so
// p appears complete or not at all. When r or the disk fails, Put
// removes the temporary file and returns the error wrapped, whatever
// it is; an earlier file at p is left as it was.
//
// It fails with ErrInvalid for a bad path, or one that passes through a
// file or a symlink leading out of the store, and with ErrNoSpace when
// the disk or quota is full.
func (a *Artifacts) Put(p string, r io.Reader) (int64, error) {
	p, err := cleanPath(p)
	if err != nil {
		return 0, err
	}
	if p == "." {
		return 0, fmt.Errorf("%w: an artifact needs a file name", ErrInvalid)
	}
	dir := path.Dir(p)
	if dir != "." {
		if err := a.root.MkdirAll(dir, 0o755); err != nil {
			return 0, a.pathError(p, err)
		}
	}
	var suffix [6]byte
	rand.Read(suffix[:])
	tmp := path.Join(dir, ".upload-"+hex.EncodeToString(suffix[:]))
	f, err := a.root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, a.pathError(p, err)
	}
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = a.root.Rename(tmp, p)
	}
	if err != nil {
		a.root.Remove(tmp)
		return 0, a.pathError(p, err)
	}
	// The rename is durable once the directory is synced too.
	if err := a.syncDir(dir); err != nil {
		return 0, a.pathError(p, err)
	}
	return n, nil
}

// syncDir flushes the directory dir of the store to disk.
func (a *Artifacts) syncDir(dir string) error {
	d, err := a.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open opens the file at p for reading. It fails with ErrNotFound when
// there is no such file (a directory is not one) and ErrInvalid for a bad
// path.
func (a *Artifacts) Open(p string) (*os.File, error) {
	p, err := cleanPath(p)
	if err != nil {
		return nil, err
	}
	f, err := a.root.Open(p)
	if err != nil {
		return nil, a.pathError(p, err)
	}
	if fi, err := f.Stat(); err != nil || fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%w: no artifact file at '%s'", ErrNotFound, p)
	}
	return f, nil
}

// List returns the entries of the directory at p, by name. A path that
// names a file or nothing lists nothing, as MLflow's proxy answers.
func (a *Artifacts) List(p string) ([]ArtifactFile, error) {
	p, err := cleanPath(p)
	if err != nil {
		return nil, err
	}
	f, err := a.root.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, a.pathError(p, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.IsDir() {
		return nil, nil
	}
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("tracking: list artifacts: %w", err)
	}
	var out []ArtifactFile
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".upload-") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		af := ArtifactFile{Name: e.Name(), IsDir: e.IsDir()}
		if !af.IsDir {
			af.Size = info.Size()
		}
		out = append(out, af)
	}
	slices.SortFunc(out, func(x, y ArtifactFile) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// pathError words a filesystem error on p: a path that does not exist is
// ErrNotFound; one the root refuses (it leads outside) or that passes
// through a file is ErrInvalid; a full disk or quota is ErrNoSpace.
// os.Root reports leaving it only in the error's text, which is matched
// here and nowhere else.
func (a *Artifacts) pathError(p string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w: artifact '%s'", ErrNoSpace, p)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: no artifact at '%s'", ErrNotFound, p)
	case errors.Is(err, fs.ErrExist), strings.Contains(err.Error(), "escapes from parent"), strings.Contains(err.Error(), "not a directory"):
		return fmt.Errorf("%w: invalid artifact path '%s': %v", ErrInvalid, p, err)
	}
	return fmt.Errorf("tracking: artifact '%s': %w", p, err)
}
