package testenv

import (
	"strconv"
	"syscall"
	"testing"
)

// SmallDisk returns an empty directory on a tmpfs of size bytes, mounted
// until the test ends: a disk that a larger write fills (ENOSPC).
// Mounting needs root with CAP_SYS_ADMIN; without it the test is
// skipped.
func SmallDisk(t testing.TB, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root with mount rights): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}
