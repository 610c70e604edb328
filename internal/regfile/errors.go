package regfile

import (
	"errors"
	"fmt"
	"io/fs"
)

var (
	// ErrNotRegular is matched (errors.Is) by the *Error that Read and
	// Open return for a path that is not a regular file: a FIFO, a device,
	// a directory or a socket.
	ErrNotRegular = errors.New("regfile: not a regular file")
	// ErrTooLarge is matched (errors.Is) by the *Error that Read, Open and
	// File.Read return for a file larger than its Limit.
	ErrTooLarge = errors.New("regfile: file too large")
)

// Error is a file refused by Read, Open or File.Read. Its text names the
// path and why: the kind of a non-regular file, or the limit (and the
// size, when known) of a file too large, followed by the Limit's Remedy.
type Error struct {
	// Path is the file as the caller named it.
	Path string
	// Mode is the file's mode when it is not a regular file.
	Mode fs.FileMode
	// Size is the file's size when it is too large: as stat reported it,
	// or -1 when the excess was found while reading.
	Size int64
	// Limit is the limit the file was held to.
	Limit Limit
	// err is ErrNotRegular or ErrTooLarge.
	err error
}

// Error reads "/reg/m/1/model.onnx: 3221225472 bytes, over the limit of
// 2 GiB (2147483648 bytes); raise --max-model-bytes" or "policy.yaml: a
// character device, not a regular file".
func (e *Error) Error() string {
	if e.err == ErrNotRegular {
		return fmt.Sprintf("%s: %s, not a regular file", e.Path, kindOf(e.Mode))
	}
	size := "more bytes than allowed"
	if e.Size >= 0 {
		size = fmt.Sprintf("%d bytes", e.Size)
	}
	msg := fmt.Sprintf("%s: %s, over the limit of %s", e.Path, size, sizeText(e.Limit.Max))
	if e.Limit.Remedy != "" {
		msg += "; " + e.Limit.Remedy
	}
	return msg
}

// Is reports whether target is the sentinel e stands for.
func (e *Error) Is(target error) bool { return target == e.err }

// kindOf names the kind of a file that is not regular.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file (" + m.Type().String() + ")"
}

// sizeText writes a limit as "2 GiB (2147483648 bytes)", or as bytes
// alone when it is not a whole number of KiB, MiB or GiB.
func sizeText(n int64) string {
	for _, u := range []struct {
		name  string
		scale int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.scale && n%u.scale == 0 {
			return fmt.Sprintf("%d %s (%d bytes)", n/u.scale, u.name, n)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
