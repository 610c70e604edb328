package tracking

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestArtifactsPutDiskFull stores onto a full disk (a 64 KiB tmpfs): Put
// fails with ErrNoSpace, leaves no temporary file, and an earlier file at
// the same path keeps its content. Mounting needs root with CAP_SYS_ADMIN;
// without it the test is skipped.
func TestArtifactsPutDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root with mount rights): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	a, err := OpenArtifacts(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Put("run/model.onnx", strings.NewReader("v1")); err != nil {
		t.Fatal(err)
	}
	big := io.LimitReader(zeros{}, 1<<20)
	if n, err := a.Put("run/model.onnx", big); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Put 1 MiB onto 64 KiB = %d, %v; want ErrNoSpace", n, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "run", "model.onnx")); err != nil || string(b) != "v1" {
		t.Fatalf("after a failed Put the earlier file holds %q, %v; want \"v1\"", b, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "run"))
	if len(entries) != 1 {
		t.Fatalf("after a failed Put run/ holds %v; want model.onnx alone", entries)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
