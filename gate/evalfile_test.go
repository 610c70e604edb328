package gate

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/regfile/regfiletest"
)

// zeros is an endless reader of zero bytes: an eval set of one endless
// line, as /dev/zero reads.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestReadEvalSetEndless reads an endless line: ReadEvalSet stops at its
// byte limit instead of reading (and holding) forever.
func TestReadEvalSetEndless(t *testing.T) {
	_, err := ReadEvalSet(zeros{}, EvalConfig{Label: "y", Classes: 2, MaxBytes: 1 << 20})
	if !errors.Is(err, ErrEvalSet) || !strings.Contains(err.Error(), "more than 1048576 bytes") {
		t.Fatalf("ReadEvalSet(endless) = %v; want the byte limit named", err)
	}
}

func TestOpenEvalSetSuccess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eval.csv")
	if err := os.WriteFile(path, []byte("a,y\n1,0\n2,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenEvalSet(path, 12)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := ReadEvalSet(r, EvalConfig{Label: "y", Classes: 2, MaxBytes: 12})
	if err != nil || s.Rows != 2 {
		t.Fatalf("ReadEvalSet(OpenEvalSet) = %v, %v; want 2 rows", s, err)
	}
}

// TestOpenEvalSetProbes opens what the probe of issue 23 put where a file
// belongs, at the default limit: each is refused before it is read.
func TestOpenEvalSetProbes(t *testing.T) {
	for _, p := range regfiletest.Probes(DefaultMaxBytes) {
		t.Run(p.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "eval.csv")
			p.Make(t, path)
			r, err := OpenEvalSet(path, 0)
			if err == nil {
				r.Close()
			}
			if !errors.Is(err, p.Want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("OpenEvalSet(%s) = %v; want an error matching %v naming the file", p.Name, err, p.Want)
			}
		})
	}
}

// TestOpenEvalSetGrown reads a file that grew past the limit after it was
// opened: the read fails at the limit.
func TestOpenEvalSetGrown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eval.csv")
	if err := os.WriteFile(path, []byte("a,y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenEvalSet(path, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.WriteFile(path, []byte("a,y\n"+strings.Repeat("1,0\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadEvalSet(r, EvalConfig{Label: "y", Classes: 2})
	if err == nil || !strings.Contains(err.Error(), "over the limit of 64 bytes") || errors.Is(err, io.EOF) {
		t.Fatalf("ReadEvalSet(grown file) = %v; want the file's limit named", err)
	}
}
