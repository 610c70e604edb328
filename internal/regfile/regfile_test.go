package regfile_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/regfile"
	"github.com/switchyard-ml/switchyard/internal/regfile/regfiletest"
)

func TestReadSuccess(t *testing.T) {
	dir := t.TempDir()
	f := func(content string, max int64) {
		t.Helper()
		path := filepath.Join(dir, "f")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := regfile.Read(path, regfile.Limit{Max: max})
		if err != nil || string(got) != content {
			t.Fatalf("Read(%q, max %d) = %q, %v; want the content", content, max, got, err)
		}
	}
	f("", 1)
	f("abc", 3) // exactly at the limit
	f("abc", 0) // no limit
	f(strings.Repeat("x", 100_000), 100_000)
	// A symbolic link to a regular file is followed.
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("linked"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if got, err := regfile.Read(link, regfile.Limit{Max: 10}); err != nil || string(got) != "linked" {
		t.Fatalf("Read(symlink) = %q, %v; want linked", got, err)
	}
}

func TestReadProbes(t *testing.T) {
	const max = 1 << 20
	for _, p := range regfiletest.Probes(max) {
		t.Run(p.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "policy.yaml")
			p.Make(t, path)
			lim := regfile.Limit{Max: max, Remedy: "a policy.yaml is a few KiB"}
			data, err := regfile.Read(path, lim)
			if !errors.Is(err, p.Want) || data != nil {
				t.Fatalf("Read(%s) = %d bytes, %v; want an error matching %v", p.Name, len(data), err, p.Want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("Read(%s) error %q does not name the file", p.Name, err)
			}
			if p.Want == regfile.ErrTooLarge {
				want := "1048577 bytes, over the limit of 1 MiB (1048576 bytes); a policy.yaml is a few KiB"
				if !strings.HasSuffix(err.Error(), want) {
					t.Fatalf("Read(%s) error %q; want it to end %q", p.Name, err, want)
				}
			}
			if _, err := regfile.Open(path, lim); !errors.Is(err, p.Want) {
				t.Fatalf("Open(%s) = %v; want an error matching %v", p.Name, err, p.Want)
			}
		})
	}
}

func TestReadMissing(t *testing.T) {
	_, err := regfile.Read(filepath.Join(t.TempDir(), "none"), regfile.Limit{Max: 1})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Read(missing) = %v; want fs.ErrNotExist", err)
	}
}

// TestReadGrowing covers a file that grows after it was checked: the read
// stops one byte past the limit.
func TestReadGrowing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rollout.json")
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := regfile.Open(path, regfile.Limit{Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	if !errors.Is(err, regfile.ErrTooLarge) || len(got) != 10 {
		t.Fatalf("ReadAll(grown file) = %d bytes, %v; want 10 bytes and ErrTooLarge", len(got), err)
	}
	if want := "more bytes than allowed, over the limit of 10 bytes"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q; want it to contain %q", err, want)
	}
	if n, err := f.Read(make([]byte, 8)); n != 0 || !errors.Is(err, regfile.ErrTooLarge) {
		t.Fatalf("Read after the limit = %d, %v; want 0, ErrTooLarge", n, err)
	}
}

// TestReadSparseMemory reads a sparse file just over a large limit: it is
// refused without its bytes ever being held (os.ReadFile would hold 256
// MiB).
func TestReadSparseMemory(t *testing.T) {
	const max = 256 << 20
	path := filepath.Join(t.TempDir(), "model.onnx")
	regfiletest.Sparse(t, path, max+1)
	before := regfiletest.PeakResidentBytes(t)
	_, err := regfile.Read(path, regfile.Limit{Max: max, Remedy: "raise --max-model-bytes"})
	grew := regfiletest.PeakResidentBytes(t) - before
	if !errors.Is(err, regfile.ErrTooLarge) {
		t.Fatalf("Read(sparse %d bytes) = %v; want ErrTooLarge", max+1, err)
	}
	if grew > 32<<20 {
		t.Fatalf("Read(sparse %d bytes) raised the peak RSS by %d bytes; want under 32 MiB", max+1, grew)
	}
}
