package server

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
)

// waitLimit bounds each wait for the server to pick up a change; it is a
// bound against hangs, not a measure of speed.
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

// TestReadinessIsPerModel checks that a model whose only version is broken
// makes itself unready but not the server, unless readiness is strict.
func TestReadinessIsPerModel(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "good", onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model())
	testenv.PlaceVersion(t, dir, "broken", 1, []byte("garbage"), testenv.Manifest([]byte("garbage")))
	f := func(ts *testServer, path string, status int, body string) {
		t.Helper()
		r := ts.do(t, "GET", path, "")
		if r.status != status || string(r.body) != body {
			t.Errorf("GET %s = %d %q; want %d %q", path, r.status, r.body, status, body)
		}
	}
	ts := serveRegistry(t, dir, Config{})
	f(ts, "/v2/health/ready", 200, `{"ready":true}`)
	f(ts, "/readyz", 200, "ok\n")
	f(ts, "/v2/models/good/ready", 200, `{"ready":true}`)
	f(ts, "/v2/models/broken/ready", 400, `{"ready":false}`)
	r := ts.do(t, "POST", "/v2/models/broken/infer", requestJSON("input", "FP32", []int64{1, 3}, ones(3)))
	if r.status != 503 || !strings.Contains(string(r.body), "version 1 failed") {
		t.Errorf("infer on the broken model = %d %s; want 503 saying version 1 failed", r.status, r.body)
	}

	strict := serveRegistry(t, dir, Config{StrictReadiness: true})
	f(strict, "/v2/health/ready", 400, `{"ready":false}`)
	f(strict, "/readyz", 503, "not ready\n")
	f(strict, "/v2/models/good/ready", 200, `{"ready":true}`)
}

// TestLoadReportsFailure checks that the repository load of a model whose
// newest version fails answers with the failure and its reason, while the
// previous version keeps serving.
func TestLoadReportsFailure(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model())
	ts := serveRegistry(t, dir, Config{})
	testenv.PlaceVersion(t, dir, "m", 2, []byte("garbage"), testenv.Manifest([]byte("garbage")))
	r := ts.do(t, "POST", "/v2/repository/models/m/load", "")
	var ans struct {
		Error    string       `json:"error"`
		Versions []indexEntry `json:"versions"`
	}
	if err := json.Unmarshal(r.body, &ans); err != nil {
		t.Fatalf("load = %d %s: %v", r.status, r.body, err)
	}
	if r.status != 400 || !strings.Contains(ans.Error, "version 2 is FAILED") || !strings.Contains(ans.Error, "Failed to load model") {
		t.Fatalf("load = %d %s; want 400 naming version 2, FAILED, and onnxruntime's reason", r.status, r.body)
	}
	if len(ans.Versions) != 2 || ans.Versions[0].State != "READY" || ans.Versions[1].State != "FAILED" || ans.Versions[1].Reason == "" {
		t.Fatalf("load answered versions %+v; want 1 READY and 2 FAILED with a reason", ans.Versions)
	}
	if v := ts.servedVersion(t, "m"); v != "1" {
		t.Fatalf("version %q serves; want 1", v)
	}
	testenv.Publish(t, dir, "m", onnx.RandomMLP(3, onnx.ActivationNone, 3, 2).Model())
	if r := ts.do(t, "POST", "/v2/repository/models/m/load", ""); r.status != 200 || !strings.Contains(string(r.body), `"version":"3","state":"READY"`) {
		t.Fatalf("load after a good publish = %d %s; want 200 with version 3 READY", r.status, r.body)
	}
}

// TestHotSwapUnderLoad publishes versions, good and broken, while clients
// send requests over HTTP, and checks that no request fails, that every
// answer comes from a good version and is that version's answer, and that
// no client sees an older version after a newer one.
func TestHotSwapUnderLoad(t *testing.T) {
	dir := t.TempDir()
	mlp := func(seed uint64) *onnx.MLP { return onnx.RandomMLP(seed, onnx.ActivationNone, 3, 8, 2) }
	x := []float32{0.5, -1, 2}
	want := map[string][]float32{} // version -> its answer to x
	testenv.Publish(t, dir, "m", mlp(1).Model())
	want["1"] = mlp(1).Predict(x)
	ts := serveRegistry(t, dir, Config{})
	body := requestJSON("input", "FP32", []int64{1, 3}, x)

	var mu sync.Mutex // guards want against the publisher
	stop := make(chan struct{})
	type tally struct {
		ok       int
		failures []string
		versions map[string]int
	}
	const clients = 8
	tallies := make([]tally, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			tl := &tallies[c]
			tl.versions = map[string]int{}
			client := &http.Client{Timeout: waitLimit}
			last := 0
			for i := 0; i < 100_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Post(ts.url+"/v2/models/m/infer", "application/json", strings.NewReader(body))
				if err != nil {
					tl.failures = append(tl.failures, err.Error())
					continue
				}
				var out inferResponse
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				version := resp.Header.Get("X-Model-Version")
				if resp.StatusCode != 200 || err != nil {
					tl.failures = append(tl.failures, fmt.Sprintf("status %d (%v) from version %q", resp.StatusCode, err, version))
					continue
				}
				n, _ := strconv.Atoi(version)
				if n < last {
					tl.failures = append(tl.failures, fmt.Sprintf("version %d answered after version %d", n, last))
				}
				last = n
				mu.Lock()
				w, known := want[version]
				mu.Unlock()
				switch {
				case !known:
					tl.failures = append(tl.failures, fmt.Sprintf("version %q answered, which was not published good", version))
				case out.ModelVersion != version || len(out.Outputs) != 1 || len(out.Outputs[0].Data) != 2 ||
					math.Abs(out.Outputs[0].Data[0]-float64(w[0])) > 1e-4:
					tl.failures = append(tl.failures, fmt.Sprintf("version %q answered %+v; want %v", version, out, w))
				}
				tl.versions[version]++
				tl.ok++
			}
		})
	}

	// Publish good versions, with a corrupt model and a manifest whose
	// hash is wrong among them, waiting for each good one to serve.
	next := 2
	publishGood := func() {
		t.Helper()
		m := mlp(uint64(next))
		mu.Lock()
		want[strconv.Itoa(next)] = m.Predict(x)
		mu.Unlock()
		if v := testenv.Publish(t, dir, "m", m.Model()); v != next {
			t.Fatalf("published version %d; want %d", v, next)
		}
		label := strconv.Itoa(next)
		until(t, "version "+label+" serving", func() bool { return ts.servedVersion(t, "m") == label })
		next++
	}
	publishGood()
	testenv.PlaceVersion(t, dir, "m", next, []byte("garbage"), testenv.Manifest([]byte("garbage")))
	next++
	publishGood()
	good := mlp(99).Model().Marshal()
	testenv.PlaceVersion(t, dir, "m", next, good, fmt.Sprintf(`{"sha256": %q}`, strings.Repeat("cd", 32)))
	next++
	publishGood()
	publishGood()
	time.Sleep(50 * time.Millisecond) // a little load on the last version too
	close(stop)
	wg.Wait()

	total := 0
	seen := map[string]bool{}
	for c, tl := range tallies {
		total += tl.ok
		for v := range tl.versions {
			seen[v] = true
		}
		for i, f := range tl.failures {
			if i == 5 {
				t.Errorf("client %d: and %d more", c, len(tl.failures)-5)
				break
			}
			t.Errorf("client %d: %s", c, f)
		}
	}
	t.Logf("%d requests answered, versions seen %v", total, seen)
	for _, broken := range []string{"3", "5"} {
		if seen[broken] {
			t.Errorf("broken version %s answered", broken)
		}
	}
	r := ts.do(t, "POST", "/v2/repository/index", "")
	for _, s := range []string{`"version":"3","state":"FAILED"`, `"version":"5","state":"FAILED"`, `"version":"6","state":"READY"`, `"version":"7","state":"READY"`} {
		if !strings.Contains(string(r.body), s) {
			t.Errorf("index lacks %s: %s", s, r.body)
		}
	}
}
