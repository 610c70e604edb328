// Package regfiletest makes, for tests, the inputs the hostile probe of
// issue 23 put where a file belongs: /dev/zero (endless), a FIFO (blocks
// its reader), a directory, and a sparse regular file just over a size
// limit (as large as it likes, but taking no disk). Every reader of a
// file that a request, a publish or the registry hands switchyard is
// tested with them.
package regfiletest

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/regfile"
)

// Probe is one input that a capped reader must refuse.
type Probe struct {
	// Name names the probe in test names: "dev-zero", "fifo", "dir",
	// "sparse".
	Name string
	// Want is the sentinel the refusal matches: regfile.ErrNotRegular or
	// regfile.ErrTooLarge.
	Want error
	// make creates the probe at path.
	make func(t testing.TB, path string)
}

// Make creates the probe at path, which must not exist; the test's
// cleanup removes it with its temporary directory.
func (p Probe) Make(t testing.TB, path string) {
	t.Helper()
	p.make(t, path)
}

// Probes returns the probes for a file whose limit is max bytes: a
// symbolic link to /dev/zero, a FIFO (where the system has them), a
// directory, and a sparse regular file of max+1 bytes.
func Probes(max int64) []Probe {
	return []Probe{
		{Name: "dev-zero", Want: regfile.ErrNotRegular, make: func(t testing.TB, path string) {
			t.Helper()
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}},
		{Name: "fifo", Want: regfile.ErrNotRegular, make: mkfifo},
		{Name: "dir", Want: regfile.ErrNotRegular, make: func(t testing.TB, path string) {
			t.Helper()
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{Name: "sparse", Want: regfile.ErrTooLarge, make: func(t testing.TB, path string) {
			t.Helper()
			Sparse(t, path, max+1)
		}},
	}
}

// Sparse creates a regular file of size zero bytes at path that takes no
// disk space.
func Sparse(t testing.TB, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// PeakResidentBytes returns the process's peak resident set size so far
// (VmHWM in /proc/self/status), which catches an allocation that was
// touched and freed between two readings. It skips the test where /proc
// has no such line.
func PeakResidentBytes(t testing.TB) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("no /proc/self/status")
	}
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Skip("no VmHWM in /proc/self/status")
	return 0
}
