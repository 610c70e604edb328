package mlflow_test

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestArtifactUploadDiskFull uploads onto a full disk (a 1 MiB tmpfs):
// the answer is 507 RESOURCE_EXHAUSTED, not 400 or 500, nothing is left
// behind, and the space it took is free again for an upload that fits.
// Mounting needs root with CAP_SYS_ADMIN; without it the test is skipped.
func TestArtifactUploadDiskFull(t *testing.T) {
	arts := t.TempDir()
	if err := syscall.Mount("tmpfs", arts, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root with mount rights): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(arts, 0); err != nil {
			t.Errorf("unmount %s: %v", arts, err)
		}
	})
	ts := uploadServerAt(t, Config{}, arts)
	// Little more than fits, so that the server reads what is left of the
	// body (fasthttp drains up to 256 KiB) instead of closing the
	// connection under a client still sending, which may reset it before
	// the client reads the answer.
	const size = 1<<20 + 64<<10
	status, out := ts.put(t, "0/run/artifacts/model.onnx", newRandomBody(8, size), size)
	if status != 507 || out["error_code"] != "RESOURCE_EXHAUSTED" {
		t.Fatalf("PUT %d bytes onto a 1 MiB disk = %d %v; want 507 RESOURCE_EXHAUSTED", size, status, out)
	}
	if files := leftovers(t, arts); len(files) != 0 {
		t.Fatalf("the upload onto a full disk left %v", files)
	}
	if status, out := ts.put(t, "0/run/artifacts/notes.txt", strings.NewReader(strings.Repeat("x", 512<<10)), 512<<10); status != 200 {
		t.Fatalf("PUT 512 KiB after the failed upload = %d %v; want 200", status, out)
	}
	if fi, err := os.Stat(arts + "/0/run/artifacts/notes.txt"); err != nil || fi.Size() != 512<<10 {
		t.Fatalf("stored upload: %v, %v", fi, err)
	}
}
