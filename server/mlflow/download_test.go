package mlflow_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/server/internal/servertest"
)

// TestMLflowDownloadURI resolves a version's files as the MLflow client
// does for models:/ URIs: get-download-uri, then the artifact proxy's
// listing and file reads, byte for byte; and refuses every write below
// the registry prefix and every path that would lead out of a version.
func TestMLflowDownloadURI(t *testing.T) {
	reg := newRegistry(t, "")
	data := t.TempDir()
	ts := serveRecorded(t, reg, data)
	publishClassifier(t, reg, 4, 2, 0)
	vdir := filepath.Join(reg, "m", "1")
	if err := mkdir(filepath.Join(vdir, "extra")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vdir, "extra", "notes.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(vdir, "leak.txt")); err != nil {
		t.Fatal(err)
	}
	// A model directory that is a symlink to a version outside the
	// registry.
	outside := filepath.Join(t.TempDir(), "evil")
	if err := mkdir(filepath.Join(outside, "1")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"manifest.json", "model.onnx"} {
		if err := os.WriteFile(filepath.Join(outside, "1", f), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(reg, "evil")); err != nil {
		t.Fatal(err)
	}

	out := ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/get-download-uri?name=m&version=1", "")
	if out["artifact_uri"] != "mlflow-artifacts:/registry/m/1" {
		t.Fatalf("get-download-uri = %v", out)
	}
	// The client resolves mlflow-artifacts:/PATH to the proxy's PATH.
	const proxy = "/api/2.0/mlflow-artifacts/artifacts"
	list := func(path string) string {
		t.Helper()
		r := ts.Do(t, "GET", proxy+"?path="+path, "")
		if r.Status != 200 {
			t.Fatalf("list %s = %d %s", path, r.Status, r.Body)
		}
		return string(r.Body)
	}
	entries, err := os.ReadDir(vdir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range entries {
		fi, err := os.Lstat(filepath.Join(vdir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case e.IsDir():
			want = append(want, fmt.Sprintf(`{"path":%q,"is_dir":true}`, e.Name()))
		default:
			want = append(want, fmt.Sprintf(`{"path":%q,"is_dir":false,"file_size":%d}`, e.Name(), fi.Size()))
		}
	}
	if got := list("registry/m/1"); got != `{"files":[`+strings.Join(want, ",")+`]}` {
		t.Errorf("listing of the version = %s; want %v", got, want)
	}
	if got := list("registry/m/1/extra"); got != `{"files":[{"path":"notes.txt","is_dir":false,"file_size":5}]}` {
		t.Errorf("listing of a directory of the version = %s", got)
	}
	for _, name := range []string{"model.onnx", "manifest.json", "eval.csv", "extra/notes.txt"} {
		disk, err := os.ReadFile(filepath.Join(vdir, name))
		if err != nil {
			t.Fatal(err)
		}
		r := ts.Do(t, "GET", proxy+"/registry/m/1/"+name, "")
		if r.Status != 200 || !bytes.Equal(r.Body, disk) {
			t.Errorf("GET %s = %d, %d bytes; want 200 and the %d bytes on disk", name, r.Status, len(r.Body), len(disk))
		}
	}

	f := func(method, path, body string, status int, code string) {
		t.Helper()
		got, out := ts.mlflowCall(t, method, path, body)
		if got != status || out["error_code"] != code {
			t.Errorf("%s %s = %d %v; want %d %s", method, path, got, out, status, code)
		}
		if strings.Contains(fmt.Sprint(out), "secret") {
			t.Errorf("%s %s leaked the file outside: %v", method, path, out)
		}
	}
	f("GET", proxy+"/registry/m/1/leak.txt", "", 400, "INVALID_PARAMETER_VALUE")
	f("GET", proxy+"/registry/m/1/../../../"+filepath.Base(data)+"/tracking.db", "", 400, "INVALID_PARAMETER_VALUE")
	f("GET", proxy+"/registry/m/1/%2e%2e/%2e%2e/m/1/model.onnx", "", 400, "INVALID_PARAMETER_VALUE")
	f("GET", proxy+"?path=registry/m/1/../../m/1", "", 400, "INVALID_PARAMETER_VALUE")
	f("GET", proxy+"/registry/evil/1/manifest.json", "", 400, "INVALID_PARAMETER_VALUE")
	f("GET", proxy+"?path=registry/evil/1", "", 400, "INVALID_PARAMETER_VALUE")
	f("GET", proxy+"/registry/m/01/model.onnx", "", 404, "RESOURCE_DOES_NOT_EXIST")
	f("GET", proxy+"/registry/m/2/model.onnx", "", 404, "RESOURCE_DOES_NOT_EXIST")
	f("GET", proxy+"/registry/m/1/nope", "", 404, "RESOURCE_DOES_NOT_EXIST")
	f("GET", proxy+"/registry/.switchyard/tracking.db", "", 404, "RESOURCE_DOES_NOT_EXIST")
	f("GET", proxy+"?path=registry", "", 404, "RESOURCE_DOES_NOT_EXIST")
	f("GET", "/api/2.0/mlflow/model-versions/get-download-uri?name=m&version=2", "", 404, "RESOURCE_DOES_NOT_EXIST")
	f("GET", "/api/2.0/mlflow/model-versions/get-download-uri?name=m", "", 400, "INVALID_PARAMETER_VALUE")

	// Writes below the prefix are refused and leave nothing.
	model, err := os.ReadFile(filepath.Join(vdir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/registry/m/1/model.onnx", "/registry/m/1/new.txt", "/registry/new.txt"} {
		req, _ := http.NewRequest("PUT", ts.URL+proxy+path, strings.NewReader("overwritten"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("PUT %s = %d; want 403", path, resp.StatusCode)
		}
	}
	f("DELETE", proxy+"/registry/m/1/model.onnx", "", 403, "PERMISSION_DENIED")
	if now, err := os.ReadFile(filepath.Join(vdir, "model.onnx")); err != nil || !bytes.Equal(now, model) {
		t.Errorf("model.onnx after the refused writes: %v", err)
	}
	for _, p := range []string{filepath.Join(vdir, "new.txt"), filepath.Join(data, "artifacts", "registry")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("a refused write left %s: %v", p, err)
		}
	}
	servertest.Until(t, "version 1 serving", func() bool { return ts.ServedVersion(t, "m") == "1" })
}
