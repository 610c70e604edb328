// Package servertest serves a registry through the whole server on a
// loopback port, for the tests of the API packages below server/: each
// is tested over a real transport, routed by the server's router.
package servertest

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

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/server"
	"github.com/switchyard-ml/switchyard/tracking"
)

// Server is a server serving a registry on a loopback port.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string
	// Store is the live model store it serves.
	Store *modelstore.Store
	// Dir is the registry directory.
	Dir string
}

// Serve opens the registry at dir, watching it, and serves it on a
// loopback port until the test ends. When cfg has no Ops, it gets a
// service over the store that audits to the tracking store cfg.Registry
// or cfg.Admin, when either is a *tracking.Store.
func Serve(t testing.TB, dir string, cfg server.Config) *Server {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	store, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: quiet, Debounce: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = quiet
	if cfg.Ops == nil {
		ocfg := ops.Config{Registry: dir, Models: store, Logger: quiet}
		for _, st := range []any{cfg.Registry, cfg.Admin} {
			if tr, ok := st.(*tracking.Store); ok {
				ocfg.Tracking = tr
			}
		}
		if cfg.Ops, err = ops.New(ocfg); err != nil {
			t.Fatal(err)
		}
	}
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
	return &Server{URL: "http://" + ln.Addr().String(), Store: store, Dir: dir}
}

// Response is an answer as a client reads it.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request with body to path and reads the answer.
func (ts *Server) Do(t testing.TB, method, path, body string) Response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
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
	return Response{resp.StatusCode, resp.Header, b}
}

// InferResponse is the V2 response as a client decodes it.
type InferResponse struct {
	ModelVersion string `json:"model_version"`
	Outputs      []struct {
		Data []float64 `json:"data"`
	} `json:"outputs"`
}

// Infer posts a V2 request to path and decodes its 200 answer.
func (ts *Server) Infer(t testing.TB, path, body string) InferResponse {
	t.Helper()
	r := ts.Do(t, "POST", path, body)
	if r.Status != 200 {
		t.Fatalf("POST %s = %d %s", path, r.Status, r.Body)
	}
	var out InferResponse
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("POST %s: %v in %s", path, err, r.Body)
	}
	return out
}

// RequestJSON is a V2 request of one input tensor.
func RequestJSON(name, dtype string, shape []int64, data any) string {
	b, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{
		"name": name, "datatype": dtype, "shape": shape, "data": data,
	}}})
	return string(b)
}

// CloseTo fails the test unless got and want agree to 1e-5.
func CloseTo(t testing.TB, what string, got []float64, want []float32) {
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

// WaitLimit bounds how long a test waits for the server to settle.
const WaitLimit = 30 * time.Second

// Until polls ok until it holds, failing the test after WaitLimit.
func Until(t testing.TB, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(WaitLimit); !ok(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %v", what, WaitLimit)
		}
	}
}

// ServedVersion asks which version answers the model's requests.
func (ts *Server) ServedVersion(t testing.TB, model string) string {
	return ts.Do(t, "GET", "/v2/models/"+model, "").Header.Get("X-Model-Version")
}

// JSONOf re-encodes a decoded value, for comparisons.
func JSONOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
