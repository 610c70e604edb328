package tracking

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestArtifacts(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenArtifacts(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if n, err := a.Put("0/run/artifacts/model/model.onnx", strings.NewReader("onnx bytes")); err != nil || n != 10 {
		t.Fatalf("Put = %d, %v", n, err)
	}
	if _, err := a.Put("0/run/artifacts/notes.txt", strings.NewReader("hi")); err != nil {
		t.Fatal(err)
	}
	f, err := a.Open("0/run/artifacts/model/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "onnx bytes" {
		t.Fatalf("read back %q", b)
	}
	list, err := a.List("0/run/artifacts")
	if err != nil || len(list) != 2 || list[0] != (ArtifactFile{Name: "model", IsDir: true}) || list[1] != (ArtifactFile{Name: "notes.txt", Size: 2}) {
		t.Fatalf("List = %+v, %v", list, err)
	}
	for _, p := range []string{"0/run/artifacts/notes.txt", "nope", "0/nope"} {
		if l, err := a.List(p); err != nil || len(l) != 0 {
			t.Errorf("List(%q) = %v, %v; want nothing", p, l, err)
		}
	}
	// Outside the root, by any spelling.
	outside := filepath.Join(dir, "secret")
	os.WriteFile(outside, []byte("secret"), 0o644)
	os.Symlink(dir, filepath.Join(dir, "artifacts", "escape"))
	for _, p := range []string{"../secret", "0/../../secret", "/etc/passwd", "a\\b", "a#b", "escape/secret", "a/\x00"} {
		if _, err := a.Put(p, strings.NewReader("x")); !errors.Is(err, ErrInvalid) {
			t.Errorf("Put(%q) = %v; want ErrInvalid", p, err)
		}
		if _, err := a.Open(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("Open(%q) = %v; want ErrInvalid", p, err)
		}
		if _, err := a.List(p); !errors.Is(err, ErrInvalid) && p != "escape/secret" {
			t.Errorf("List(%q) = %v; want ErrInvalid", p, err)
		}
	}
	if b, _ := os.ReadFile(outside); string(b) != "secret" {
		t.Fatal("a refused write changed a file outside the store")
	}
	if _, err := a.Put("0/run/artifacts/notes.txt/under", strings.NewReader("x")); !errors.Is(err, ErrInvalid) {
		t.Errorf("Put under a file = %v; want ErrInvalid", err)
	}
	if _, err := a.Open("0/run/artifacts/model"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open(a directory) = %v; want ErrNotFound", err)
	}
	if _, err := a.Open("0/missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open(missing) = %v; want ErrNotFound", err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "artifacts", "0", "run", "artifacts"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".upload-") {
			t.Errorf("a temporary upload %s was left behind", e.Name())
		}
	}
}
