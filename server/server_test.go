package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The models every test server serves.
var (
	testMLP    = onnx.RandomMLP(42, onnx.ActivationSoftmax, 30, 64, 2)
	testForest = onnx.RandomForest(43, 6, 8, 3)
)

type testServer struct {
	*Server
	url   string
	store *modelstore.Store
	dir   string
}

// startServer publishes the test models into a new registry and serves it
// on a loopback port until the test ends.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	dir := t.TempDir()
	testenv.Publish(t, dir, "mlp", testMLP.Model())
	testenv.Publish(t, dir, "forest", testForest.Model())
	testenv.Publish(t, dir, "typed", onnx.Typed{Width: 2}.Model())
	testenv.Publish(t, dir, "fixed", (&onnx.Affine{Shape: []onnx.Dim{onnx.DimValue(1), onnx.DimValue(4)}, Scale: 2}).Model())
	return serveRegistry(t, dir, cfg)
}

// serveRegistry opens the registry at dir, watching it, and serves it on a
// loopback port until the test ends.
func serveRegistry(t *testing.T, dir string, cfg Config) *testServer {
	t.Helper()
	return serveStore(t, modelstore.Config{Dir: dir}, cfg)
}

// serveStore opens a store with scfg (quiet, with a short debounce) and
// serves it on a loopback port until the test ends.
func serveStore(t *testing.T, scfg modelstore.Config, cfg Config) *testServer {
	t.Helper()
	return serveStoreOn(t, scfg, cfg, prometheus.NewPedanticRegistry())
}

// serveStoreOn is serveStore with the server's metrics in reg, which
// GET /metrics serves.
func serveStoreOn(t *testing.T, scfg modelstore.Config, cfg Config, reg *prometheus.Registry) *testServer {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	dir := scfg.Dir
	scfg.Logger, scfg.Debounce = quiet, 5*time.Millisecond
	store, err := modelstore.Open(context.Background(), scfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = quiet
	if cfg.Ops == nil {
		ocfg := ops.Config{Registry: dir, Models: store, Logger: quiet}
		if tr, ok := cfg.Admin.(*tracking.Store); ok {
			ocfg.Tracking = tr
		}
		if cfg.Ops, err = ops.New(ocfg); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := New(cfg, store, reg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		store.Close()
	})
	return &testServer{Server: srv, url: "http://" + ln.Addr().String(), store: store, dir: dir}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request, failing the test if it cannot. It calls t.Fatal:
// only the test's goroutine may call it; others call try.
func (ts *testServer) do(t *testing.T, method, path, body string) response {
	t.Helper()
	r, err := ts.try(method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// try sends a request and reads the response; any goroutine may call it.
func (ts *testServer) try(method, path, body string) (response, error) {
	req, err := http.NewRequest(method, ts.url+path, strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return ts.send(req)
}

// send sends req and reads the response; any goroutine may call it.
func (ts *testServer) send(req *http.Request) (response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	return response{resp.StatusCode, resp.Header, b}, nil
}

// raw sends req as it is on a new connection and reads one response.
func (ts *testServer) raw(t *testing.T, req string) response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// inferResponse is the V2 response as a client decodes it.
type inferResponse struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	ID           string `json:"id"`
	Outputs      []struct {
		Name     string    `json:"name"`
		Datatype string    `json:"datatype"`
		Shape    []int64   `json:"shape"`
		Data     []float64 `json:"data"`
	} `json:"outputs"`
}

func (ts *testServer) infer(t *testing.T, path, body string) inferResponse {
	t.Helper()
	r := ts.do(t, "POST", path, body)
	if r.status != 200 {
		t.Fatalf("POST %s = %d %s", path, r.status, r.body)
	}
	if r.header.Get("Content-Type") != "application/json" || r.header.Get("X-Model-Version") == "" {
		t.Fatalf("POST %s: headers %v lack the JSON content type or X-Model-Version", path, r.header)
	}
	var out inferResponse
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("POST %s: %v in %s", path, err, r.body)
	}
	if out.ModelVersion != r.header.Get("X-Model-Version") {
		t.Fatalf("model_version %q but X-Model-Version %q", out.ModelVersion, r.header.Get("X-Model-Version"))
	}
	return out
}

func requestJSON(name, dtype string, shape []int64, data any) string {
	b, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{
		"name": name, "datatype": dtype, "shape": shape, "data": data,
	}}})
	return string(b)
}

func ones(n int) []any {
	s := make([]any, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func closeTo(t *testing.T, what string, got []float64, want []float32) {
	t.Helper()
	within(t, what, got, want, 1e-5)
}

// within checks that got and want have the same length and agree within
// tol, element by element.
func within[G, W float32 | float64](t *testing.T, what string, got []G, want []W, tol float64) {
	t.Helper()
	if err := near(got, want, tol); err != nil {
		t.Fatalf("%s%v", what, err)
	}
}

// near is within for any goroutine: it returns what differs.
func near[G, W float32 | float64](got []G, want []W, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf(": %d values, want %d", len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i])-float64(want[i])) > tol {
			return fmt.Errorf("[%d] = %v, want %v (within %g)", i, got[i], want[i], tol)
		}
	}
	return nil
}

// engineRun runs the served version's session directly, for comparison
// with what HTTP returns.
func (ts *testServer) engineRun(t *testing.T, model string, in engine.Tensor) []engine.Tensor {
	t.Helper()
	v, err := ts.store.Lookup(model, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]engine.Tensor, len(v.Signature.Outputs))
	if err := v.Run([]engine.Tensor{in}, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInferMatchesEngineAndReference(t *testing.T) {
	ts := startServer(t, Config{})
	for _, n := range []int{1, 5} {
		// MLP.
		x := testenv.Rows(uint64(n), n*30)
		got := ts.infer(t, "/v2/models/mlp/infer", requestJSON("input", "FP32", []int64{int64(n), 30}, x))
		direct := ts.engineRun(t, "mlp", engine.NewTensor("input", []int64{int64(n), 30}, x))
		want, _ := engine.Values[float32](&direct[0])
		if got.ModelName != "mlp" || got.ModelVersion != "1" || len(got.Outputs) != 1 ||
			got.Outputs[0].Datatype != "FP32" || fmt.Sprint(got.Outputs[0].Shape) != fmt.Sprint([]int64{int64(n), 2}) {
			t.Fatalf("mlp response = %+v", got)
		}
		closeTo(t, "mlp via HTTP vs engine", got.Outputs[0].Data, want)
		closeTo(t, "mlp via HTTP vs reference", got.Outputs[0].Data, testMLP.Predict(x))

		// Tree ensemble: label INT64 [N], probabilities FP32 [N,2].
		x = testenv.Rows(uint64(n+50), n*6)
		got = ts.infer(t, "/v2/models/forest/infer", requestJSON("input", "FP32", []int64{int64(n), 6}, x))
		direct = ts.engineRun(t, "forest", engine.NewTensor("input", []int64{int64(n), 6}, x))
		labels, _ := engine.Values[int64](&direct[0])
		probs, _ := engine.Values[float32](&direct[1])
		if len(got.Outputs) != 2 || got.Outputs[0].Name != "label" || got.Outputs[0].Datatype != "INT64" ||
			got.Outputs[1].Name != "probabilities" {
			t.Fatalf("forest response = %+v", got)
		}
		for i, l := range labels {
			if got.Outputs[0].Data[i] != float64(l) {
				t.Fatalf("forest label[%d] = %v via HTTP, %v via engine", i, got.Outputs[0].Data[i], l)
			}
		}
		closeTo(t, "forest probabilities via HTTP vs engine", got.Outputs[1].Data, probs)
		_, refProbs := testForest.Predict(x)
		closeTo(t, "forest probabilities via HTTP vs reference", got.Outputs[1].Data, refProbs)
	}
}

func TestInferProtocolFeatures(t *testing.T) {
	ts := startServer(t, Config{})
	x := testenv.Rows(7, 2*6)
	nested := [][]float32{x[:6], x[6:]}
	body := `{"id":"req-\"7\"","parameters":{"priority":1},"outputs":[{"name":"probabilities"}],` +
		strings.TrimPrefix(requestJSON("input", "FP32", []int64{2, 6}, nested), "{")
	got := ts.infer(t, "/v2/models/forest/versions/1/infer", body)
	if got.ID != `req-"7"` {
		t.Errorf("id = %q; want it echoed", got.ID)
	}
	if len(got.Outputs) != 1 || got.Outputs[0].Name != "probabilities" {
		t.Fatalf("outputs = %+v; want only probabilities", got.Outputs)
	}
	_, probs := testForest.Predict(x)
	closeTo(t, "nested data", got.Outputs[0].Data, probs)

	// Several inputs of every type.
	typed := `{"inputs":[
		{"name":"x_fp32","datatype":"FP32","shape":[1,2],"data":[1.5,-2]},
		{"name":"x_fp64","datatype":"FP64","shape":[1,2],"data":[0.25,1e10]},
		{"name":"x_int64","datatype":"INT64","shape":[1,2],"data":[9007199254740,-3]},
		{"name":"x_int32","datatype":"INT32","shape":[1,2],"data":[7,-8]},
		{"name":"x_int8","datatype":"INT8","shape":[1,2],"data":[5,-128]},
		{"name":"x_uint8","datatype":"UINT8","shape":[1,2],"data":[0,255]},
		{"name":"x_bool","datatype":"BOOL","shape":[1,2],"data":[true,false]}]}`
	r := ts.do(t, "POST", "/v2/models/typed/infer", typed)
	want := `"outputs":[` +
		`{"name":"y_fp32","datatype":"FP32","shape":[1,2],"data":[3,-4]},` +
		`{"name":"y_fp64","datatype":"FP64","shape":[1,2],"data":[0.5,2e+10]},` +
		`{"name":"y_int64","datatype":"INT64","shape":[1,2],"data":[18014398509480,-6]},` +
		`{"name":"y_int32","datatype":"INT32","shape":[1,2],"data":[14,-16]},` +
		`{"name":"y_int8","datatype":"INT8","shape":[1,2],"data":[-5,-128]},` +
		`{"name":"y_uint8","datatype":"UINT8","shape":[1,2],"data":[0,255]},` +
		`{"name":"y_bool","datatype":"BOOL","shape":[1,2],"data":[false,true]}]`
	if r.status != 200 || !bytes.Contains(r.body, []byte(want)) {
		t.Fatalf("typed model = %d %s; want outputs %s", r.status, r.body, want)
	}
}

// TestBadRequests sends each kind of bad request, checks its status and
// that the message names the problem, and checks after each one that the
// server still answers a good request correctly.
func TestBadRequests(t *testing.T) {
	ts := startServer(t, Config{MaxRequestBodySize: 64 << 10})
	x := testenv.Rows(1, 30)
	good := requestJSON("input", "FP32", []int64{1, 30}, x)
	f := func(method, path, body string, status int, want string) {
		t.Helper()
		r := ts.do(t, method, path, body)
		if r.status != status {
			t.Errorf("%s %s %.60q = %d %s; want %d", method, path, body, r.status, r.body, status)
		}
		var e struct{ Error string }
		if err := json.Unmarshal(r.body, &e); err != nil || !strings.Contains(e.Error, want) {
			t.Errorf("%s %s %.60q: body %s; want {\"error\": ...%q...}", method, path, body, r.body, want)
		}
		got := ts.infer(t, "/v2/models/mlp/infer", good)
		closeTo(t, "good request after a bad one", got.Outputs[0].Data, testMLP.Predict(x))
	}
	const infer = "/v2/models/mlp/infer"
	f("POST", infer, `{"inputs":[`, 400, "malformed JSON")
	f("POST", infer, `{"inputs":[]}`, 400, "inputs")
	f("POST", infer, requestJSON("features", "FP32", []int64{1, 30}, x), 400, `"features"`)
	f("POST", infer, `{"inputs":[{"datatype":"FP32","shape":[1,30],"data":[]}]}`, 400, "name")
	f("POST", infer, requestJSON("input", "FP32", []int64{1, 30}, x[:29]), 400, "29")
	f("POST", infer, requestJSON("input", "FP32", []int64{1, 29}, x[:29]), 400, "[-1,30]")
	f("POST", infer, requestJSON("input", "FP32", []int64{30}, x), 400, "[-1,30]")
	f("POST", infer, requestJSON("input", "INT64", []int64{1, 30}, make([]int, 30)), 400, "FP32")
	f("POST", infer, requestJSON("input", "FP16", []int64{1, 30}, x), 400, "FP16")
	f("POST", infer, requestJSON("input", "FP32", []int64{1, 30}, append(ones(29), "two")), 400, "non-numeric")
	f("POST", infer, requestJSON("input", "FP32", []int64{1, 30}, append(ones(29), nil)), 400, "non-numeric")
	f("POST", infer, `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,30],"data":[`+strings.Repeat("1,", 29)+`1e39]}]}`, 400, "range")
	f("POST", "/v2/models/fixed/infer", requestJSON("input", "FP32", []int64{2, 4}, make([]float32, 8)), 400, "[1,4]")
	f("POST", "/v2/models/nope/infer", good, 404, `"nope"`)
	f("POST", "/v2/models/mlp/versions/9/infer", good, 404, "version 9")
	f("POST", "/v2/models/mlp/versions/x/infer", good, 404, `"x"`)
	f("POST", "/v2/modelz", good, 404, "no such endpoint")
	f("GET", infer, "", 405, "use POST")

	// A body over the limit is refused from its declared length, before it
	// is read: send only the headers, as a client would before streaming.
	r := ts.raw(t, "POST "+infer+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
	if r.status != 413 || !strings.Contains(string(r.body), "exceeds the limit of 65536 bytes") {
		t.Errorf("oversized body = %d %s; want 413 naming the limit", r.status, r.body)
	}
	got := ts.infer(t, "/v2/models/mlp/infer", good)
	closeTo(t, "good request after an oversized one", got.Outputs[0].Data, testMLP.Predict(x))
	f("PUT", "/v2/models/mlp", "", 405, "use GET")
}

func TestMetadataAndHealth(t *testing.T) {
	ts := startServer(t, Config{})
	r := ts.do(t, "GET", "/v2/models/mlp", "")
	var md modelMetadata
	if err := json.Unmarshal(r.body, &md); err != nil || r.status != 200 {
		t.Fatalf("metadata = %d %s (%v)", r.status, r.body, err)
	}
	if md.Name != "mlp" || fmt.Sprint(md.Versions) != "[1]" || md.Platform != "onnxruntime_onnx" ||
		len(md.Inputs) != 1 || md.Inputs[0].Datatype != "FP32" || fmt.Sprint(md.Inputs[0].Shape) != "[-1 30]" ||
		len(md.Outputs) != 1 || fmt.Sprint(md.Outputs[0].Shape) != "[-1 2]" {
		t.Fatalf("metadata = %+v", md)
	}
	if r := ts.do(t, "GET", "/v2/models/forest/versions/1", ""); r.status != 200 || !strings.Contains(string(r.body), `"label"`) {
		t.Fatalf("version metadata = %d %s", r.status, r.body)
	}
	if r := ts.do(t, "GET", "/v2", ""); r.status != 200 || !strings.Contains(string(r.body), `"switchyard"`) ||
		!strings.Contains(string(r.body), `"binary_tensor_data"`) {
		t.Fatalf("server metadata = %d %s", r.status, r.body)
	}
	f := func(path string, status int, body string) {
		t.Helper()
		r := ts.do(t, "GET", path, "")
		if r.status != status || string(r.body) != body {
			t.Errorf("GET %s = %d %q; want %d %q", path, r.status, r.body, status, body)
		}
	}
	f("/v2/health/live", 200, `{"live":true}`)
	f("/v2/health/ready", 200, `{"ready":true}`)
	f("/healthz", 200, "ok\n")
	f("/readyz", 200, "ok\n")
	f("/v2/models/mlp/ready", 200, `{"ready":true}`)
	f("/v2/models/mlp/versions/1/ready", 200, `{"ready":true}`)
	f("/v2/models/mlp/versions/2/ready", 404, `{"error":"model \"mlp\" version 2: not found"}`)

	// Unloading a model makes it not ready, but not the server; loading
	// brings it back.
	ts.infer(t, "/v2/models/mlp/infer", requestJSON("input", "FP32", []int64{1, 30}, testenv.Rows(1, 30)))
	if r := ts.do(t, "POST", "/v2/repository/models/mlp/unload", ""); r.status != 200 {
		t.Fatalf("unload = %d %s", r.status, r.body)
	}
	// The metrics of the unloaded version go with its Unloaded event.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		r := ts.do(t, "GET", "/metrics", "")
		if !strings.Contains(string(r.body), `model="mlp",status="200"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/metrics still reports the unloaded version's requests")
		}
	}
	f("/v2/models/mlp/ready", 400, `{"ready":false}`)
	f("/readyz", 200, "ok\n")
	if r := ts.do(t, "POST", "/v2/models/mlp/infer", requestJSON("input", "FP32", []int64{1, 30}, testenv.Rows(1, 30))); r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("infer on an unloaded model = %d %v %s; want 503 with Retry-After", r.status, r.header, r.body)
	}
	r = ts.do(t, "POST", "/v2/repository/index", "")
	if r.status != 200 || !strings.Contains(string(r.body), `{"name":"mlp","version":"1","state":"UNLOADED","reason":"model unloaded through the repository API"}`) {
		t.Fatalf("index = %d %s", r.status, r.body)
	}
	if r := ts.do(t, "POST", "/v2/repository/index", `{"ready":true}`); strings.Contains(string(r.body), `"mlp"`) {
		t.Fatalf("index of ready versions lists mlp: %s", r.body)
	}
	if r := ts.do(t, "POST", "/v2/repository/models/mlp/load", ""); r.status != 200 {
		t.Fatalf("load = %d %s", r.status, r.body)
	}
	f("/v2/models/mlp/ready", 200, `{"ready":true}`)
	if r := ts.do(t, "POST", "/v2/repository/models/nope/load", ""); r.status != 404 {
		t.Fatalf("load of an unknown model = %d %s", r.status, r.body)
	}
}

func TestMetrics(t *testing.T) {
	ts := startServer(t, Config{})
	ts.infer(t, "/v2/models/mlp/infer", requestJSON("input", "FP32", []int64{1, 30}, testenv.Rows(1, 30)))
	ts.do(t, "POST", "/v2/models/mlp/infer", `{`)
	ts.do(t, "POST", "/v2/models/nope/infer", `{}`)
	r := ts.do(t, "GET", "/metrics", "")
	for _, want := range []string{
		`switchyard_requests_total{model="mlp",status="200",version="1"} 1`,
		`switchyard_requests_total{model="mlp",status="400",version="1"} 1`,
		`switchyard_requests_total{model="",status="404",version=""} 1`,
		`switchyard_request_duration_seconds_count{model="mlp",status="200",version="1"} 1`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestShutdownFinishesRequestsInFlight starts a slow request, shuts the
// server down while it runs, and checks that it is answered in full and
// that readiness turned false.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	dir := t.TempDir()
	heavy := onnx.RandomMLP(1, onnx.ActivationNone, 512, 1024, 1024, 1024, 8)
	testenv.Publish(t, dir, "heavy", heavy.Model())
	store, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv, err := New(Config{Logger: slog.New(slog.DiscardHandler)}, store, prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	const n = 256
	x := testenv.Rows(3, n*512)
	body := requestJSON("input", "FP32", []int64{n, 512}, x)
	type result struct {
		status int
		body   []byte
		err    error
	}
	got := make(chan result, 1)
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v2/models/heavy/infer", strings.NewReader(body))
		resp, err := (&http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return conn, nil }}}).Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, b, err}
	}()
	// Wait until the request is being served, then shut down under it.
	deadline := time.Now().Add(10 * time.Second)
	for srv.http.GetOpenConnectionsCount() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if srv.isReady() {
		t.Error("server still ready after Shutdown")
	}
	res := <-got
	if res.err != nil || res.status != 200 {
		t.Fatalf("request in flight during shutdown = %d %v %.200s", res.status, res.err, res.body)
	}
	var out inferResponse
	if err := json.Unmarshal(res.body, &out); err != nil || len(out.Outputs[0].Data) != n*8 {
		t.Fatalf("in-flight response incomplete: %v", err)
	}
	closeTo(t, "heavy", out.Outputs[0].Data[:8], heavy.Predict(x[:512]))
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
