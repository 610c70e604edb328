package regfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// Limit is how large a file may be, and what a user changes to allow a
// larger one.
type Limit struct {
	// Max is the most bytes the file may hold. Zero or negative means no
	// size limit: only the file's kind is checked (a training set that is
	// hashed as it streams, for instance).
	Max int64
	// Remedy ends the error of a file too large: what to change to allow
	// it ("raise --max-model-bytes"), or why no real file is that large.
	// Empty adds nothing.
	Remedy string
}

// File is a regular file opened by Open, whose reads fail once more than
// its limit arrives. It is not safe for concurrent use.
type File struct {
	f     *os.File
	path  string
	limit Limit
	n     int64 // bytes returned so far
	size  int64 // the size fstat reported at open
}

// Open opens the regular file at path for reading under lim. It refuses,
// before opening, a path that is not a regular file once symbolic links
// are followed (so a FIFO is refused without blocking) and a file whose
// size is over lim.Max; both checks are repeated on the opened file.
// Errors are the filesystem's *fs.PathError, whose Op is "open" as with
// os.Open (fs.ErrNotExist for a missing file), or *Error values matching
// ErrNotRegular or ErrTooLarge. The caller must Close the File.
func Open(path string, lim Limit) (*File, error) {
	fi, err := os.Stat(path)
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return nil, &fs.PathError{Op: "open", Path: pe.Path, Err: pe.Err}
	}
	if err != nil {
		return nil, err
	}
	if err := check(path, fi, lim); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, err
	}
	// The path may have changed between Stat and OpenFile.
	if fi, err = f.Stat(); err == nil {
		err = check(path, fi, lim)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{f: f, path: path, limit: lim, size: fi.Size()}, nil
}

// check refuses a file that is not regular or is over lim.
func check(path string, fi fs.FileInfo, lim Limit) error {
	switch {
	case !fi.Mode().IsRegular():
		return &Error{Path: path, Mode: fi.Mode(), Limit: lim, err: ErrNotRegular}
	case lim.Max > 0 && fi.Size() > lim.Max:
		return &Error{Path: path, Size: fi.Size(), Limit: lim, err: ErrTooLarge}
	}
	return nil
}

// Read implements io.Reader. Once the file has yielded more than its
// limit it returns the bytes up to the limit and an *Error matching
// ErrTooLarge, and that error on every later call; it never reads more
// than limit+1 bytes from the file.
func (f *File) Read(p []byte) (int, error) {
	max := f.limit.Max
	if max <= 0 {
		return f.f.Read(p)
	}
	if f.n > max {
		return 0, f.tooLarge()
	}
	if left := max + 1 - f.n; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := f.f.Read(p)
	f.n += int64(n)
	if f.n > max {
		return n - int(f.n-max), f.tooLarge()
	}
	return n, err
}

func (f *File) tooLarge() error {
	return &Error{Path: f.path, Size: -1, Limit: f.limit, err: ErrTooLarge}
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Read reads the whole regular file at path under lim, as Open and
// File.Read check it: a file that is not regular, or is over lim.Max
// before or while it is read, is refused with an *Error, and at most
// lim.Max+1 bytes are ever read. The returned slice is the caller's.
func Read(path string, lim Limit) ([]byte, error) {
	f, err := Open(path, lim)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := f.size + 1 // one more, to see the end without growing
	if lim.Max > 0 {
		size = min(size, lim.Max+1)
	}
	data := make([]byte, 0, max(size, 512))
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // grow: the file grew since fstat
		}
	}
}
