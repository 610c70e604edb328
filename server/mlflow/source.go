package mlflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// errNotRegular is a source file that is not a regular file: a FIFO, a
// device, a socket, a directory where a file was expected.
var errNotRegular = errors.New("not a regular file")

// sourceError is a source the caller may read but that holds no model
// this server takes: too large, or a directory without one model. Its
// text follows "Invalid model version source '<source>': ".
type sourceError struct{ why string }

func (e *sourceError) Error() string { return e.why }

// sourceOpenFlags opens a source file without blocking on a FIFO that
// replaced it after it was checked, so that the check of the opened
// file refuses it.
const sourceOpenFlags = os.O_RDONLY | syscall.O_NONBLOCK

// modelSource is what a model version's source holds: the ONNX model,
// and, for an MLflow model directory, its other files and its MLmodel.
type modelSource struct {
	// Model is the ONNX file's bytes.
	Model []byte
	// Files are the directory's other files by name (external data keeps
	// its name, which the model refers to), eval.csv excepted; nil for a
	// source that is not an MLflow model directory.
	Files map[string][]byte
	// EvalCSV is the directory's eval.csv, or nil.
	EvalCSV []byte
	// MLmodel is the parsed MLmodel, or nil.
	MLmodel *mlModel
	// ArtifactDir is the source's directory in the artifact store, for a
	// source read from it, else empty.
	ArtifactDir string
}

// readSource reads the ONNX model a model version's source names:
// runs:/RUN_ID/PATH and mlflow-artifacts:/PATH from the artifact store,
// an absolute local path or a file:// URI from under one of
// Config.AllowSourceRoots. A directory holding an MLmodel is an MLflow
// model directory: the ONNX file its onnx flavor names, with every other
// file of the directory (see readMLflowDir). Any other directory is
// searched for model.onnx or its one .onnx file. Every file must be a
// regular file, and all of them together at most Config.MaxModelBytes,
// refused before a file is read when stat says so and once the total
// passes the limit while it is read.
//
// A local source that is not allowed, missing, not a regular file or
// unreadable gets one answer, whatever the reason, so that the API tells
// a caller nothing about the host's files; the reason is logged at debug
// level.
func (s *Server) readSource(ctx context.Context, source string) (*modelSource, error) {
	invalid := func(why string) error {
		return &requestError{fmt.Sprintf("Invalid model version source '%s': %s", source, why)}
	}
	limit := s.cfg.MaxModelBytes
	if limit <= 0 {
		limit = modelstore.DefaultMaxModelBytes
	}
	limit = min(limit, math.MaxInt64-1) // limit+1 is read
	if p, local, err := localPath(source); local {
		if err != nil {
			return nil, invalid(err.Error())
		}
		var src *modelSource
		err := s.readLocal(p, func(fsys sourceFS, rel string) (err error) {
			src, err = readModel(fsys, rel, limit)
			return err
		})
		if se, ok := errors.AsType[*sourceError](err); ok {
			return nil, invalid(se.why)
		}
		if err != nil {
			s.log.Debug("model version source refused", "source", source, "reason", err)
			return nil, invalid(refusedLocal)
		}
		return src, nil
	}

	u, err := url.Parse(source)
	if err != nil {
		return nil, invalid(err.Error())
	}
	if u.Scheme != "mlflow-artifacts" && u.Scheme != "runs" {
		return nil, invalid("switchyard reads mlflow-artifacts:/, runs:/ and local sources")
	}
	p := strings.TrimPrefix(u.Path, "/")
	if u.Scheme == "runs" { // runs:/RUN_ID/PATH
		runID, rest, _ := strings.Cut(p, "/")
		run, err := s.tracking.Run(ctx, runID)
		if err != nil {
			return nil, err
		}
		base, ok := strings.CutPrefix(run.Info.ArtifactURI, "mlflow-artifacts:/")
		if !ok {
			return nil, invalid("the run's artifacts are not kept by this server")
		}
		p = path.Join(base, rest)
	}
	if s.artifactStore == nil {
		return nil, errNotConfigured
	}
	src, err := readModel(s.artifactFS(), p, limit)
	switch se, ok := errors.AsType[*sourceError](err); {
	case ok:
		return nil, invalid(se.why)
	case errors.Is(err, errNotRegular):
		return nil, invalid("the artifact is not a regular file")
	case err != nil:
		return nil, err
	}
	if src.MLmodel != nil {
		src.ArtifactDir = p
	}
	return src, nil
}

// refusedLocal is the one answer to a local source or evaluation set that
// is not allowed, missing, not a regular file or unreadable.
const refusedLocal = "not found, or not under a source root this server allows (serve --allow-source-root)"

// sourceFS is where a source is read from: the artifact store, or a
// source root. Paths are slash-separated and relative to it.
type sourceFS struct {
	// open opens a regular file for reading.
	open func(name string) (*os.File, error)
	// list returns a directory's entries, non-nil (even empty) when name
	// is a directory, nil when it is not.
	list func(name string) ([]sourceEntry, error)
}

// sourceEntry is one entry of a listed directory.
type sourceEntry struct {
	name  string
	isDir bool
}

// artifactFS reads the artifact store.
func (s *Server) artifactFS() sourceFS {
	return sourceFS{open: s.artifactStore.Open, list: func(dir string) ([]sourceEntry, error) {
		files, err := s.artifactStore.List(dir)
		var entries []sourceEntry
		for _, f := range files {
			entries = append(entries, sourceEntry{f.Name, f.IsDir})
		}
		return entries, err
	}}
}

// localPath returns the path a local source names: an absolute path as
// sent, or the path of a file:// URI (with no host, or localhost).
// local is false for a URI of another scheme; err says why a local
// source is malformed, from its text alone.
func localPath(source string) (p string, local bool, err error) {
	if filepath.IsAbs(source) {
		return source, true, nil
	}
	u, perr := url.Parse(source)
	switch {
	case perr == nil && u.Scheme == "file" && (u.Host == "" || u.Host == "localhost") && filepath.IsAbs(u.Path):
		return u.Path, true, nil
	case perr == nil && u.Scheme != "" && u.Scheme != "file":
		return "", false, nil
	}
	return "", true, errors.New("a local source must be an absolute path, or a file:/// URI of one")
}

// readLocal calls read with each source root the absolute path p lies
// under, in turn, and p relative to it, until one read succeeds. A
// *sourceError from any of them is returned at once: the caller may read
// the file. Every other error is for the log only.
func (s *Server) readLocal(p string, read func(fsys sourceFS, rel string) error) error {
	var errs []error
	for _, dir := range s.cfg.AllowSourceRoots {
		rel, err := filepath.Rel(dir, p)
		if err != nil || !filepath.IsAbs(dir) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		err = underRoot(dir, func(fsys sourceFS) error { return read(fsys, filepath.ToSlash(rel)) })
		if _, ok := errors.AsType[*sourceError](err); ok || err == nil {
			return err
		}
		errs = append(errs, fmt.Errorf("source root %s: %w", dir, err))
	}
	if len(errs) == 0 {
		return fmt.Errorf("%s is under no source root", p)
	}
	return errors.Join(errs...)
}

// underRoot calls fn with the files below the directory dir, read
// through an os.Root, so that neither ".." nor a symlink reaches outside
// dir.
func underRoot(dir string, fn func(sourceFS) error) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	open := func(name string) (*os.File, error) {
		// A device or a FIFO is refused before it is opened.
		fi, err := root.Stat(name)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: %w (%v)", name, errNotRegular, fi.Mode().Type())
		}
		return root.OpenFile(name, sourceOpenFlags, 0)
	}
	list := func(name string) ([]sourceEntry, error) {
		if fi, err := root.Stat(name); err != nil || !fi.IsDir() {
			return nil, nil // not a directory: open says what it is
		}
		d, err := root.Open(name)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		entries, err := d.ReadDir(-1)
		out := []sourceEntry{} // a directory, even empty
		for _, e := range entries {
			out = append(out, sourceEntry{e.Name(), e.IsDir()})
		}
		return out, err
	}
	return fn(sourceFS{open: open, list: list})
}

// readModel reads the model at p: the file itself, or, when p is a
// directory, the MLflow model directory it is (readMLflowDir) or its
// model.onnx or only .onnx file.
func readModel(fsys sourceFS, p string, limit int64) (*modelSource, error) {
	entries, err := fsys.list(p)
	if err != nil {
		return nil, err
	}
	if entries != nil {
		pick := ""
		var onnx []string
		for _, e := range entries {
			switch {
			case e.isDir:
			case e.name == mlmodelFile:
				return readMLflowDir(fsys, p, entries, limit)
			case e.name == modelstore.ModelFile:
				pick = e.name
			}
			if !e.isDir && strings.HasSuffix(e.name, ".onnx") {
				onnx = append(onnx, e.name)
			}
		}
		if pick == "" && len(onnx) == 1 {
			pick = onnx[0]
		}
		if pick == "" {
			return nil, &sourceError{"the directory holds no model.onnx and not exactly one .onnx file"}
		}
		p = path.Join(p, pick)
	}
	b, err := readFile(fsys.open, p, limit)
	if err != nil {
		return nil, err
	}
	return &modelSource{Model: b}, nil
}

// readFile reads the file at p. It refuses a file that is not a regular
// file (errNotRegular) or holds more than limit bytes (a *sourceError),
// checking the opened file before it reads and reading at most limit+1
// bytes.
func readFile(open func(string) (*os.File, error), p string, limit int64) ([]byte, error) {
	f, err := open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s: %w (%v)", p, errNotRegular, fi.Mode().Type())
	case fi.Size() > limit:
		return nil, sourceTooLarge(limit)
	}
	return readLimited(f, fi.Size(), limit)
}

// readLimited reads r to its end, refusing it once more than limit bytes
// arrive: it reads at most limit+1. size, what stat reported, sizes the
// buffer, so that a file that kept its size is read into one allocation.
func readLimited(r io.Reader, size, limit int64) ([]byte, error) {
	b := make([]byte, 0, min(max(size, 0), limit)+1)
	lr := io.LimitReader(r, limit+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read model version source: %w", err)
		}
	}
	if int64(len(b)) > limit {
		return nil, sourceTooLarge(limit)
	}
	return b, nil
}

func sourceTooLarge(limit int64) error {
	return &sourceError{fmt.Sprintf("the model holds more than %d bytes, the most this server reads (raise serve --max-model-bytes)", limit)}
}
