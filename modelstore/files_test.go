package modelstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// externalMLP returns an MLP of 3 inputs and 1 output whose first layer's
// weights live in the data file "weights-uuid", the model bytes and that
// file.
func externalMLP() (*onnx.MLP, []byte, []byte) {
	mlp := onnx.RandomMLP(3, onnx.ActivationNone, 3, 300, 1)
	m, data := onnx.Externalize(mlp.Model(), "weights-uuid", 1024)
	return mlp, m.Marshal(), data
}

func TestPublishExtraFiles(t *testing.T) {
	dir := t.TempDir()
	mlp, model, data := externalMLP()
	files := map[string][]byte{"weights-uuid": data, "MLmodel": []byte("flavors: {}\n")}
	v, err := modelstore.Publish(dir, "m", model, modelstore.PublishOptions{Files: files})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	m, err := modelstore.ReadManifest(filepath.Join(dir, "m", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if f := m.Files["weights-uuid"]; f.Size != int64(len(data)) || len(f.SHA256) != 64 || len(m.Files) != 2 {
		t.Fatalf("manifest files = %+v; want both files, the data one of %d bytes", m.Files, len(data))
	}
	st := openStore(t, dir)
	ver, err := st.Lookup("m", v)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	x := []float32{1, 2, 3}
	out := make([]engine.Tensor, 1)
	if err := ver.Run([]engine.Tensor{engine.NewTensor("input", []int64{1, 3}, x)}, out); err != nil {
		t.Fatal(err)
	}
	got, _ := engine.Values[float32](&out[0])
	if want := mlp.Predict(x); len(got) != 1 || abs(got[0]-want[0]) > 1e-4 {
		t.Fatalf("Run = %v; want %v", got, want)
	}
}

func abs(x float32) float32 { return max(x, -x) }

func TestExtraFilesCheckedAtLoad(t *testing.T) {
	f := func(name string, mutate func(vdir string), maxModel int64, want string) {
		t.Helper()
		dir := t.TempDir()
		_, model, data := externalMLP()
		if _, err := modelstore.Publish(dir, "m", model, modelstore.PublishOptions{Files: map[string][]byte{"weights-uuid": data}}); err != nil {
			t.Fatalf("%s: Publish: %v", name, err)
		}
		mutate(filepath.Join(dir, "m", "1"))
		st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, MaxModelBytes: maxModel, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		v := st.Model("m").Version(1)
		if v.State() != modelstore.Failed || !strings.Contains(v.Reason(), want) {
			t.Fatalf("%s: state %s, reason %q; want FAILED saying %q", name, v.State(), v.Reason(), want)
		}
	}
	data := func(vdir string) string { return filepath.Join(vdir, "weights-uuid") }
	f("tampered", func(vdir string) {
		b, _ := os.ReadFile(data(vdir))
		b[10] ^= 1
		os.WriteFile(data(vdir), b, 0o644)
	}, 0, modelstore.ErrChecksum.Error()+": weights-uuid has sha256")
	f("missing", func(vdir string) { os.Remove(data(vdir)) }, 0, modelstore.ErrChecksum.Error()+": weights-uuid")
	f("grown", func(vdir string) {
		b, _ := os.ReadFile(data(vdir))
		os.WriteFile(data(vdir), append(b, 0), 0o644)
	}, 0, "holds other than")
	f("truncated", func(vdir string) { os.Truncate(data(vdir), 8) }, 0, "holds other than")
	f("a directory", func(vdir string) {
		os.Remove(data(vdir))
		os.Mkdir(data(vdir), 0o755)
	}, 0, "not a regular file")
	f("over the size limit", func(string) {}, 2000, "size limit")
	f("dropped from the manifest", func(vdir string) {
		p := filepath.Join(vdir, modelstore.ManifestFile)
		var m map[string]any
		b, _ := os.ReadFile(p)
		json.Unmarshal(b, &m)
		delete(m, "files") // the data file is no longer checked, so not read
		b, _ = json.Marshal(m)
		os.WriteFile(p, b, 0o644)
	}, 0, "weights-uuid")
}

func TestPublishRefusesBadFileNames(t *testing.T) {
	dir := t.TempDir()
	_, model, data := externalMLP()
	f := func(name string) {
		t.Helper()
		files := map[string][]byte{"weights-uuid": data, name: []byte("x")}
		_, err := modelstore.Publish(dir, "m", model, modelstore.PublishOptions{Files: files})
		if !errors.Is(err, modelstore.ErrFileName) {
			t.Errorf("Publish with file %q = %v; want ErrFileName", name, err)
		}
	}
	for _, name := range []string{"", ".", "..", "../x", "/etc/passwd", "sub/file", `a\b`, "model.onnx", "manifest.json", "eval.csv", "profile.json"} {
		f(name)
	}
	// A model whose external data is missing is refused too.
	if _, err := modelstore.Publish(dir, "m", model, modelstore.PublishOptions{Files: map[string][]byte{"other": data}}); err == nil {
		t.Error("Publish without the model's data file succeeded")
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "m")); len(entries) != 0 {
		t.Fatalf("refused publishes left %v behind", entries)
	}
}

func TestParseManifestFiles(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	f := func(files, want string) {
		t.Helper()
		_, err := modelstore.ParseManifest([]byte(`{"sha256":"` + sum + `","files":` + files + `}`))
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("ParseManifest(files %s) = %v; want %q", files, err, want)
		}
	}
	f(`{"w":{"sha256":"`+sum+`","size":3}}`, "")
	f(`{"../w":{"sha256":"`+sum+`","size":3}}`, "is a path")
	f(`{"w":{"sha256":"zz","size":3}}`, "not 64 hex digits")
	f(`{"w":{"sha256":"`+sum+`","size":-1}}`, "negative")
}
