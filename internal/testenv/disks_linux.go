package testenv

import (
	"os"
	"path/filepath"
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

// ReadOnly makes dir unwritable for real and returns what makes it
// writable again (also run at cleanup). As root, whom permissions do not
// stop, it bind-mounts dir read-only over itself, skipping the test when
// mounting is not permitted; otherwise it takes away write permission.
func ReadOnly(t testing.TB, dir string) (writable func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		restore := func() { os.Chmod(dir, 0o755) }
		t.Cleanup(restore)
		return restore
	}
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount %s read-only (needs mount rights): %v", dir, err)
	}
	mounted := true
	restore := func() {
		if !mounted {
			return
		}
		mounted = false
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	}
	t.Cleanup(restore)
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount %s read-only: %v", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".probe"), nil, 0o644); err == nil {
		t.Fatalf("%s is still writable", dir)
	}
	return restore
}
