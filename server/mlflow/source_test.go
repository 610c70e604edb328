//go:build unix

package mlflow_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/servertest"
)

// serveSources serves an empty registry with a tracking store and an
// artifact store, as serveTracking does, that reads local model version
// sources under roots and models of at most max bytes (0: the default),
// with one registered model, churn.
func serveSources(t *testing.T, roots []string, max int64) *testServer {
	t.Helper()
	reg := filepath.Join(t.TempDir(), "registry")
	if err := mkdir(reg); err != nil {
		t.Fatal(err)
	}
	ts := serveTrackingAt(t, reg, Config{AllowSourceRoots: roots, MaxModelBytes: max})
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/create", `{"name":"churn"}`)
	return ts
}

// sourceClient gives up on an answer that does not come: a server that
// blocks on a FIFO fails the test instead of hanging it.
var sourceClient = &http.Client{Timeout: 30 * time.Second}

// createFrom sends model-versions/create for churn from source and
// returns the answer's status and body as sent.
func (ts *testServer) createFrom(t *testing.T, source string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": "churn", "source": source})
	resp, err := sourceClient.Post(ts.URL+"/api/2.0/mlflow/model-versions/create", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("model-versions/create from %q: %v", source, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(raw)
}

// refusal is the one answer to a local source that is not allowed, not
// found, not a regular file or unreadable, whatever the reason.
func refusal(source string) string {
	b, _ := json.Marshal(map[string]string{"error_code": "INVALID_PARAMETER_VALUE",
		"message": fmt.Sprintf("Invalid model version source '%s': not found, or not under a source root this server allows (serve --allow-source-root)", source)})
	return string(b)
}

// sourceTree is a source root holding a real model and the traps a probe
// would try: symlinks leading out, a FIFO, a device.
type sourceTree struct {
	root    string
	model   []byte
	outside string // a copy of the model outside the root
}

func newSourceTree(t *testing.T) sourceTree {
	t.Helper()
	st := sourceTree{root: t.TempDir(), model: onnx.RandomMLP(5, onnx.ActivationNone, 3, 2).Model().Marshal()}
	st.outside = filepath.Join(t.TempDir(), "model.onnx")
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(st.root, "churn", "model.onnx"), st.model)
	write(filepath.Join(st.root, "garbage.onnx"), []byte("not onnx"))
	write(st.outside, st.model)
	for name, target := range map[string]string{
		"passwd":     "/etc/passwd",
		"etc":        "/etc",
		"zero.onnx":  "/dev/zero",
		"escape":     st.outside,
		"latest.onx": "churn/model.onnx", // inside: allowed
	} {
		if err := os.Symlink(target, filepath.Join(st.root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(st.root, "fifo.onnx"), 0o644); err != nil {
		t.Fatal(err)
	}
	return st
}

// probes are the sources that must all be refused alike: outside any
// root, or inside one but leading out, missing or not a regular file.
func (st sourceTree) probes() []string {
	return []string{
		"/etc/shadow",
		"/etc/passwd",
		"/dev/zero",
		"/nonexistent-switchyard/model.onnx",
		"/tmp",
		"file:///etc/passwd",
		"file:///etc/shadow",
		st.outside,
		filepath.Dir(st.outside),
		"file://" + st.outside,
		st.root + "/../../../../etc/passwd",
		st.root + "/churn/../../" + filepath.Base(filepath.Dir(st.outside)) + "/model.onnx",
		st.root + "/passwd",
		st.root + "/etc/passwd",
		st.root + "/etc",
		st.root + "/escape",
		st.root + "/zero.onnx",
		st.root + "/fifo.onnx",
		st.root + "/missing.onnx",
		"file://" + st.root + "/passwd",
	}
}

// TestModelVersionSourceRefusedAlike sends the probes of issue 23 to a
// server that allows no local source and to one that allows a root:
// every probe gets the same status and the same body (but for the source
// it echoes), so the answers tell nothing about the host's files.
func TestModelVersionSourceRefusedAlike(t *testing.T) {
	st := newSourceTree(t)
	for _, roots := range [][]string{nil, {st.root}} {
		ts := serveSources(t, roots, 0)
		for _, source := range st.probes() {
			status, body := ts.createFrom(t, source)
			if status != http.StatusBadRequest || body != refusal(source) {
				t.Errorf("roots %q: create from %q = %d %s; want 400 %s", roots, source, status, body, refusal(source))
			}
		}
		if complete := versionsOf(t, ts); complete != 0 {
			t.Fatalf("roots %q: refused sources published %d versions", roots, complete)
		}
	}
}

// TestModelVersionSourceUnderRoot publishes from a source root, by path,
// by file:// URI, by a directory and by a symlink that stays inside, and
// serves what it published; the same model outside the root is refused.
func TestModelVersionSourceUnderRoot(t *testing.T) {
	st := newSourceTree(t)
	ts := serveSources(t, []string{st.root}, 0)
	for i, source := range []string{
		filepath.Join(st.root, "churn"),
		"file://" + filepath.Join(st.root, "churn", "model.onnx"),
		filepath.Join(st.root, "latest.onx"),
		st.root + "/churn/../churn/model.onnx",
	} {
		status, body := ts.createFrom(t, source)
		if want := fmt.Sprintf(`"version":"%d"`, i+1); status != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("create from %q = %d %s; want 200 with %s", source, status, body, want)
		}
	}
	servertest.Until(t, "churn version 4 serving", func() bool { return ts.ServedVersion(t, "churn") == "4" })
	out := ts.Infer(t, "/v2/models/churn/infer", servertest.RequestJSON("input", "FP32", []int64{1, 3}, []float32{1, 2, 3}))
	servertest.CloseTo(t, "churn", out.Outputs[0].Data, onnx.RandomMLP(5, onnx.ActivationNone, 3, 2).Predict([]float32{1, 2, 3}))

	// A file the caller may read but that is no model says so.
	garbage := filepath.Join(st.root, "garbage.onnx")
	if status, body := ts.createFrom(t, garbage); status != http.StatusBadRequest || body == refusal(garbage) || !strings.Contains(body, "Invalid model version source") {
		t.Errorf("create from a file that is no model = %d %s; want 400 saying it is not a valid model", status, body)
	}
	// The same model outside the root is refused, as a file that does
	// not exist would be.
	if status, body := ts.createFrom(t, st.outside); status != http.StatusBadRequest || body != refusal(st.outside) {
		t.Errorf("create from outside the root = %d %s; want 400 %s", status, body, refusal(st.outside))
	}
	if n := versionsOf(t, ts); n != 4 {
		t.Fatalf("%d versions; want 4", n)
	}
}

// TestModelVersionSourceTooLarge holds local and artifact sources to
// MaxModelBytes: a sparse file far larger is refused without being read
// whole, a file whose size stat does not know (/proc) once it passes the
// limit while read, and an artifact over it likewise; the answer names
// the limit.
func TestModelVersionSourceTooLarge(t *testing.T) {
	st := newSourceTree(t)
	const max = 4096
	if len(st.model) >= max {
		t.Fatalf("the test model has %d bytes; the test needs it under %d", len(st.model), max)
	}
	big := filepath.Join(st.root, "big.onnx")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 64<<30); err != nil { // sparse: 64 GiB, none on disk
		t.Fatal(err)
	}
	roots := []string{st.root}
	if runtime.GOOS == "linux" {
		roots = append(roots, "/proc/self")
	}
	ts := serveSources(t, roots, max)

	tooLarge := func(source string) {
		t.Helper()
		status, body := ts.createFrom(t, source)
		var out map[string]string
		json.Unmarshal([]byte(body), &out)
		if status != http.StatusBadRequest || out["error_code"] != "INVALID_PARAMETER_VALUE" ||
			!strings.Contains(out["message"], "4096 bytes") || !strings.Contains(out["message"], "--max-model-bytes") {
			t.Errorf("create from %q = %d %s; want 400 INVALID_PARAMETER_VALUE naming the limit of 4096 bytes and --max-model-bytes", source, status, body)
		}
	}
	tooLarge(big)
	if runtime.GOOS == "linux" {
		tooLarge("/proc/self/smaps") // stat says 0 bytes; it holds many KiB
	}

	// The artifact store is held to the same limit.
	run := ts.ok(t, "POST", "/api/2.0/mlflow/runs/create", `{"experiment_id":"0"}`)["run"].(map[string]any)["info"].(map[string]any)
	id := run["run_id"].(string)
	req, _ := http.NewRequest("PUT", ts.URL+"/api/2.0/mlflow-artifacts/artifacts/0/"+id+"/artifacts/big/model.onnx", strings.NewReader(strings.Repeat("x", 2*max)))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("upload = %v, %v", resp, err)
	}
	tooLarge("runs:/" + id + "/big")
	tooLarge("mlflow-artifacts:/0/" + id + "/artifacts/big/model.onnx")

	// A model under the limit publishes.
	if status, body := ts.createFrom(t, filepath.Join(st.root, "churn")); status != http.StatusOK {
		t.Fatalf("create from a model under the limit = %d %s", status, body)
	}
}

// TestModelVersionSourceDevZero names /dev/zero and a FIFO through
// symlinks inside an allowed root: both are refused before a byte is
// read, with the one refusal, and five tries leave the heap far below
// the GiB the old code read each time.
func TestModelVersionSourceDevZero(t *testing.T) {
	st := newSourceTree(t)
	ts := serveSources(t, []string{st.root}, 0)
	zero := filepath.Join(st.root, "zero.onnx")
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 5 {
		if status, body := ts.createFrom(t, zero); (status != http.StatusBadRequest || body != refusal(zero)) && i == 0 {
			t.Errorf("create from %q = %d %s; want 400 %s", zero, status, body, refusal(zero))
		}
		runtime.ReadMemStats(&after)
		if after.HeapAlloc > 256<<20 {
			t.Fatalf("HeapAlloc = %d after reading /dev/zero; want far below 1 GiB", after.HeapAlloc)
		}
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
		t.Fatalf("five creates from /dev/zero allocated %d bytes; want far below 1 GiB", grew)
	}
	fifo := filepath.Join(st.root, "fifo.onnx")
	if status, body := ts.createFrom(t, fifo); status != http.StatusBadRequest || body != refusal(fifo) {
		t.Fatalf("create from %q = %d %s; want 400 %s", fifo, status, body, refusal(fifo))
	}
}

// versionsOf returns how many versions of churn the registry holds,
// complete or not.
func versionsOf(t *testing.T, ts *testServer) int {
	t.Helper()
	_, all, err := modelstore.Versions(ts.Dir, "churn")
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}
