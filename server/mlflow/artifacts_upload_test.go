package mlflow_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/server/internal/servertest"
	"github.com/switchyard-ml/switchyard/tracking"
)

// The tests below upload over a real loopback connection into a real
// artifact store, and hold every other endpoint to the request body limit
// now that the server streams request bodies.

// uploadServer serves cfg with an artifact store and a registry holding
// the model "mlp" (4 features in, 2 out), and returns the server and the
// store's directory.
func uploadServer(t *testing.T, cfg Config) (*testServer, string) {
	t.Helper()
	arts := filepath.Join(t.TempDir(), "artifacts")
	return uploadServerAt(t, cfg, arts), arts
}

// uploadServerAt is uploadServer with the artifact store at arts.
func uploadServerAt(t *testing.T, cfg Config, arts string) *testServer {
	t.Helper()
	reg := filepath.Join(t.TempDir(), "registry")
	if err := os.MkdirAll(reg, 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.Publish(t, reg, "mlp", onnx.RandomMLP(7, onnx.ActivationNone, 4, 8, 2).Model())
	a, err := tracking.OpenArtifacts(arts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	cfg.Artifacts = a
	return serveRegistry(t, reg, cfg)
}

// randomBody yields n bytes of a fixed pseudo-random sequence, hashing
// them as it goes; after each step bytes it calls each, if set.
type randomBody struct {
	rng        *rand.ChaCha8
	left, step int64
	sum        hashSum
	each       func()
	next       int64
}

type hashSum interface {
	io.Writer
	Sum([]byte) []byte
}

func newRandomBody(seed byte, n int64) *randomBody {
	return &randomBody{rng: rand.NewChaCha8([32]byte{seed}), left: n, sum: sha256.New()}
}

func (b *randomBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), b.left)]
	b.rng.Read(p)
	b.sum.Write(p)
	b.left -= int64(len(p))
	if b.each != nil {
		if b.next -= int64(len(p)); b.next <= 0 {
			b.each()
			b.next = b.step
		}
	}
	return len(p), nil
}

// put uploads body to the artifact path p, declaring its length n, or
// chunked when n is -1.
func (ts *testServer) put(t *testing.T, p string, body io.Reader, n int64) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("PUT", ts.URL+"/api/2.0/mlflow-artifacts/artifacts/"+p, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = n
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", p, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("PUT %s = %d with non-JSON %q", p, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// fileSum returns the sha256 of the file at path.
func fileSum(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return h.Sum(nil)
}

// leftovers lists the files below dir: what an upload left behind.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestArtifactUploadOverBodyLimit uploads a model.onnx eight times the
// request body limit, with its length declared and chunked: both are
// stored byte for byte, and read back the same.
func TestArtifactUploadOverBodyLimit(t *testing.T) {
	ts, arts := uploadServer(t, Config{MaxRequestBodySize: 1 << 20})
	const size = 8 << 20
	f := func(name string, declared int64) {
		t.Helper()
		body := newRandomBody(1, size)
		p := "0/run/artifacts/" + name + "/model.onnx"
		if status, out := ts.put(t, p, body, declared); status != 200 {
			t.Fatalf("PUT %d bytes (declared %d) over a 1 MiB body limit = %d %v; want 200", size, declared, status, out)
		}
		want := body.sum.Sum(nil)
		if got := fileSum(t, filepath.Join(arts, p)); string(got) != string(want) {
			t.Fatalf("stored %s: sha256 %x; want %x", p, got, want)
		}
		resp, err := http.Get(ts.URL + "/api/2.0/mlflow-artifacts/artifacts/" + p)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, _ := io.Copy(h, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != size || string(h.Sum(nil)) != string(want) {
			t.Fatalf("GET %s = %d, %d bytes, sha256 %x; want 200, %d bytes, %x", p, resp.StatusCode, n, h.Sum(nil), size, want)
		}
	}
	f("declared", size)
	f("chunked", -1)
	for _, p := range leftovers(t, arts) {
		if strings.Contains(p, ".upload-") {
			t.Errorf("temporary upload %s left behind", p)
		}
	}
}

// TestArtifactUploadTooLarge sends uploads past MaxArtifactBytes: each
// gets 413 RESOURCE_EXHAUSTED, a chunked one while it is still being sent,
// and none leaves a file or a temporary file; one of exactly the limit is
// stored.
func TestArtifactUploadTooLarge(t *testing.T) {
	// Under the 256 KiB fasthttp drains of a body left unread, so that a
	// refusal does not close the connection under a client still sending.
	const limit = 128 << 10
	ts, arts := uploadServer(t, Config{MaxArtifactBytes: limit})
	f := func(what string, body io.Reader, declared int64) {
		t.Helper()
		status, out := ts.put(t, "0/run/artifacts/big.bin", body, declared)
		if status != 413 || out["error_code"] != "RESOURCE_EXHAUSTED" || !strings.Contains(fmt.Sprint(out["message"]), fmt.Sprint(limit)) {
			t.Errorf("%s: PUT = %d %v; want 413 RESOURCE_EXHAUSTED naming the limit %d", what, status, out, limit)
		}
		if files := leftovers(t, arts); len(files) != 0 {
			t.Errorf("%s: the refused upload left %v", what, files)
		}
	}
	f("declared one byte over", newRandomBody(2, limit+1), limit+1)
	f("chunked one byte over", newRandomBody(2, limit+1), -1)
	// A chunked body that has not ended: the refusal comes while it is
	// read, not once it has all been received.
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	f("chunked, never ending", io.MultiReader(newRandomBody(3, 2*limit), blockingReader(stop)), -1)

	if status, out := ts.put(t, "0/run/artifacts/exact.bin", newRandomBody(4, limit), -1); status != 200 {
		t.Fatalf("PUT of exactly MaxArtifactBytes = %d %v; want 200", status, out)
	}
}

// blockingReader blocks until stop is closed, then fails.
type blockingReader <-chan struct{}

func (r blockingReader) Read([]byte) (int, error) {
	<-r
	return 0, io.ErrUnexpectedEOF
}

// TestArtifactUploadMemoryBounded uploads 64 MiB under a request body
// limit that would let the server hold it all: the heap in use, sampled
// every 4 MiB while the upload is sent, grows by well under its size.
func TestArtifactUploadMemoryBounded(t *testing.T) {
	const size, bound = 64 << 20, 16 << 20
	ts, arts := uploadServer(t, Config{MaxRequestBodySize: 128 << 20})
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	body := newRandomBody(5, size)
	body.step = 4 << 20
	body.each = func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	if status, out := ts.put(t, "0/run/artifacts/model.onnx", body, size); status != 200 {
		t.Fatalf("PUT %d bytes = %d %v; want 200", size, status, out)
	}
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	grew := int64(peak) - int64(base)
	if grew > bound {
		t.Errorf("the heap in use grew by %d bytes during a %d-byte upload; want at most %d", grew, size, bound)
	}
	t.Logf("heap in use grew by %d bytes during a %d-byte upload", grew, size)
	if fi, err := os.Stat(filepath.Join(arts, "0/run/artifacts/model.onnx")); err != nil || fi.Size() != size {
		t.Fatalf("stored upload: %v, %v; want %d bytes", fi, err, size)
	}
}

// TestArtifactUploadAborted breaks off an upload mid-body: while it is
// sent its bytes reach a temporary file beside the artifact, and once the
// client has gone neither that file nor the artifact is left.
func TestArtifactUploadAborted(t *testing.T) {
	ts, arts := uploadServer(t, Config{MaxRequestBodySize: 1 << 20})
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const size = 8 << 20
	fmt.Fprintf(conn, "PUT /api/2.0/mlflow-artifacts/artifacts/0/run/artifacts/model.onnx HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size)
	if _, err := io.CopyN(conn, newRandomBody(6, size), 2<<20); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(arts, "0/run/artifacts")
	temp := func() (name string, n int64) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), ".upload-") {
				return e.Name(), fi.Size()
			}
		}
		return "", 0
	}
	waitFor(t, "the upload's bytes to reach a temporary file", func() bool { _, n := temp(); return n > 0 })
	conn.Close()
	waitFor(t, "the aborted upload's temporary file to go", func() bool { name, _ := temp(); return name == "" })
	if files := leftovers(t, arts); len(files) != 0 {
		t.Fatalf("the aborted upload left %v", files)
	}
}

// waitFor polls ok until it holds, failing the test after 10 seconds.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestBodyLimitWhileUploadsStream holds every endpoint but the artifact
// upload to MaxRequestBodySize now that request bodies are streamed: a V2
// inference, an MLflow call and an operations call over the limit get 413,
// with a declared length (refused before a byte of the body is sent) or
// chunked (refused while it is sent, without waiting for its end), and as
// multipart forms, which fasthttp would otherwise read whole. Bodies
// within the limit, chunked or longer than what fasthttp reads ahead,
// still serve.
func TestBodyLimitWhileUploadsStream(t *testing.T) {
	const limit = 64 << 10
	ts, _ := uploadServer(t, Config{MaxRequestBodySize: limit})
	addr := strings.TrimPrefix(ts.URL, "http://")
	const infer = "/v2/models/mlp/infer"
	good := servertest.RequestJSON("input", "FP32", []int64{1, 4}, []float32{1, 2, 3, 4})
	// Rows of 4 features, more than the 8 KiB fasthttp reads ahead of a
	// streamed body, less than the limit.
	rows := make([]float32, 4*3000)
	long := servertest.RequestJSON("input", "FP32", []int64{3000, 4}, rows)
	if len(long) <= 8<<10 || len(long) >= limit {
		t.Fatalf("the long request holds %d bytes; want between 8 KiB and %d", len(long), limit)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })

	f := func(what, head string, body io.Reader, status int) {
		t.Helper()
		r := exchange(t, addr, head, body)
		if r.status != status {
			t.Errorf("%s = %d %s; want %d", what, r.status, r.body, status)
		}
		if status == 413 && !strings.Contains(string(r.body), fmt.Sprintf("exceeds the limit of %d bytes", limit)) {
			t.Errorf("%s: body %s; want the limit named", what, r.body)
		}
		if r := ts.Do(t, "POST", infer, good); r.Status != 200 {
			t.Errorf("after %s, a good request = %d %s", what, r.Status, r.Body)
		}
	}
	post := func(path, ctype, length string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + ctype + "\r\n" + length + "\r\n"
	}
	declared := fmt.Sprintf("Content-Length: %d\r\n", limit+1)
	const chunked = "Transfer-Encoding: chunked\r\n"
	over := func() io.Reader { return strings.NewReader(strings.Repeat(" ", limit+1)) }

	f("V2 infer, declared over, headers only", post(infer, "application/json", declared), nil, 413)
	f("V2 infer, declared over, body sent", post(infer, "application/json", declared), over(), 413)
	f("V2 infer, chunked over", post(infer, "application/json", chunked), chunks(over()), 413)
	f("V2 infer, chunked never ending", post(infer, "application/json", chunked),
		chunks(io.MultiReader(over(), blockingReader(stop))), 413)
	f("MLflow log-batch, chunked over", post("/api/2.0/mlflow/runs/log-batch", "application/json", chunked), chunks(over()), 413)
	f("admin promote, chunked over", post("/admin/models/mlp/promote", "application/json", chunked), chunks(over()), 413)
	f("no endpoint, chunked over", post("/nowhere", "application/json", chunked), chunks(over()), 413)
	multipart := "multipart/form-data; boundary=xyz"
	f("V2 infer multipart, declared over, headers only", post(infer, multipart, declared), nil, 413)
	f("V2 infer multipart, HTTP/1.0, declared over, body sent",
		strings.Replace(post(infer, multipart, declared), "HTTP/1.1", "HTTP/1.0", 1),
		io.MultiReader(strings.NewReader("--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f\"\r\n\r\n"), over()), 413)

	f("V2 infer, chunked within the limit", post(infer, "application/json", chunked), chunks(strings.NewReader(good)), 200)
	f("V2 infer, declared, longer than the read-ahead", post(infer, "application/json", fmt.Sprintf("Content-Length: %d\r\n", len(long))),
		strings.NewReader(long), 200)
	f("V2 infer, chunked, longer than the read-ahead", post(infer, "application/json", chunked), chunks(strings.NewReader(long)), 200)
}

// chunks frames r as a chunked body, 4 KiB a chunk.
func chunks(r io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 4<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, werr := fmt.Fprintf(pw, "%x\r\n%s\r\n", n, buf[:n]); werr != nil {
					pw.CloseWithError(werr)
					return
				}
			}
			if err == io.EOF {
				io.WriteString(pw, "0\r\n\r\n")
				pw.Close()
				return
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}

type rawResponse struct {
	status int
	body   []byte
}

// exchange sends the request head, then body (if any) from another
// goroutine, on a new connection, and reads the answer within 10 seconds:
// a server that waited for a body that does not come, or does not end,
// fails the test.
func exchange(t *testing.T, addr, head string, body io.Reader) rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	if body != nil {
		go io.Copy(conn, body) // ends when the body does or the connection closes
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%q: no answer: %v", head, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{resp.StatusCode, b}
}
