//go:build unix

package modelstore_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/testenv"
)

// TestPublishedVersionIsReadableByOthers publishes under a umask that
// would make everything private and checks that the version directory is
// 0755 and its files 0644, so that a server running as another user can
// read them.
func TestPublishedVersionIsReadableByOthers(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	v := testenv.Publish(t, dir, "m", small(1))
	vdir := filepath.Join(dir, "m", "1")
	if v != 1 {
		t.Fatalf("published version %d; want 1", v)
	}
	err := filepath.WalkDir(vdir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		want := fs.FileMode(0o644)
		if d.IsDir() {
			want = 0o755
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s has mode %v; want %v", path, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
