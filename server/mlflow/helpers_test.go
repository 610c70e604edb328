package mlflow_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server"
)

// The helpers below serve a registry through the whole server, as the
// root package's tests do, so that this package's API is tested over a
// real transport, routed by the server's router.

func TestMain(m *testing.M) { testenv.Main(m) }

// Config is the server's configuration, under a short name for the tests.
type Config = server.Config

type testServer struct {
	url   string
	store *modelstore.Store
	dir   string
}

// serveRegistry opens the registry at dir, watching it, and serves it on a
// loopback port until the test ends.
func serveRegistry(t *testing.T, dir string, cfg Config) *testServer {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	store, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: quiet, Debounce: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = quiet
	srv, err := server.New(cfg, store, prometheus.NewPedanticRegistry())
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
	return &testServer{url: "http://" + ln.Addr().String(), store: store, dir: dir}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (ts *testServer) do(t *testing.T, method, path, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// inferResponse is the V2 response as a client decodes it.
type inferResponse struct {
	ModelVersion string `json:"model_version"`
	Outputs      []struct {
		Data []float64 `json:"data"`
	} `json:"outputs"`
}

func (ts *testServer) infer(t *testing.T, path, body string) inferResponse {
	t.Helper()
	r := ts.do(t, "POST", path, body)
	if r.status != 200 {
		t.Fatalf("POST %s = %d %s", path, r.status, r.body)
	}
	var out inferResponse
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("POST %s: %v in %s", path, err, r.body)
	}
	return out
}

func requestJSON(name, dtype string, shape []int64, data any) string {
	b, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{
		"name": name, "datatype": dtype, "shape": shape, "data": data,
	}}})
	return string(b)
}

func closeTo(t *testing.T, what string, got []float64, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values; want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-float64(want[i])) > 1e-5 {
			t.Fatalf("%s[%d] = %v; want %v", what, i, got[i], want[i])
		}
	}
}

// waitLimit bounds how long a test waits for the server to settle.
const waitLimit = 30 * time.Second

// until polls ok until it holds, failing the test after waitLimit.
func until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(waitLimit); !ok(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %v", what, waitLimit)
		}
	}
}

// servedVersion asks which version answers the model's requests.
func (ts *testServer) servedVersion(t *testing.T, model string) string {
	return ts.do(t, "GET", "/v2/models/"+model, "").header.Get("X-Model-Version")
}

// jsonOf re-encodes a decoded value, for comparisons.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
