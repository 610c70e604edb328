package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/respcache"
	"github.com/switchyard-ml/switchyard/rollout"
)

// cachePolicy turns the response cache on for an hour's answers.
const cachePolicy = "cache:\n  max_bytes: 1MiB\n  ttl: 1h\n"

// serveCached serves the registry at dir with the response caches'
// metrics on GET /metrics.
func serveCached(t *testing.T, dir string) *testServer {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	cm, err := respcache.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	return serveStoreOn(t, modelstore.Config{Dir: dir, CacheMetrics: cm}, Config{}, reg)
}

// setPolicy writes model's policy.yaml and waits for the store to read
// it.
func (ts *testServer) setPolicy(t *testing.T, model, policy string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(ts.dir, model, modelstore.PolicyFile), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.Rescan(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// cacheStats are a model's cache series as GET /metrics shows them, -1
// for one it does not show.
type cacheStats struct{ hits, misses, evictions, bytes float64 }

// cacheStats reads model's cache series over HTTP.
func (ts *testServer) cacheStats(t *testing.T, model string) cacheStats {
	t.Helper()
	r := ts.do(t, "GET", "/metrics", "")
	st := cacheStats{-1, -1, -1, -1}
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), `{model="`+model+`"} `)
		if !ok {
			continue
		}
		x, err := strconv.ParseFloat(rest, 64)
		if err != nil {
			t.Fatalf("/metrics: %q", sc.Text())
		}
		switch name {
		case "switchyard_cache_hits_total":
			st.hits = x
		case "switchyard_cache_misses_total":
			st.misses = x
		case "switchyard_cache_evictions_total":
			st.evictions = x
		case "switchyard_cache_bytes":
			st.bytes = x
		}
	}
	return st
}

// postUntilHit sends a request until one is answered from model's cache
// (the cache stores an answer a moment after the miss that computed it),
// failing the test after waitLimit, and returns the cache's series then.
func (ts *testServer) postUntilHit(t *testing.T, model string, send func() response) cacheStats {
	t.Helper()
	before := ts.cacheStats(t, model)
	until(t, "an answer from the cache", func() bool {
		if r := send(); r.status != 200 {
			t.Fatalf("answer %d %s", r.status, r.body)
		}
		return ts.cacheStats(t, model).hits > before.hits
	})
	return ts.cacheStats(t, model)
}

// anyPredictionID matches prediction ids; the two models' names, which are as long.
var (
	anyPredictionID = regexp.MustCompile(`[0-9a-f]{16}-[0-9a-f]{16}`)
	cachedName      = []byte(`"cached"`)
	directName      = []byte(`"direct"`)
)

// TestCacheSharedAcrossProtocols checks that a records request and V2
// requests (JSON or binary, all outputs or some, in JSON or binary) for
// the same row share one entry, and that each is answered from it exactly
// as a server without the cache answers it.
func TestCacheSharedAcrossProtocols(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"cached", "direct"} {
		if _, err := modelstore.Publish(dir, name, recordsFraud.Model().Marshal(), modelstore.PublishOptions{
			CreatedBy: "test", Features: recFraudFeatures(), Classes: []string{"legit", "fraud"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cached", modelstore.PolicyFile), []byte(cachePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := serveCached(t, dir)
	x := []float32{12.5, 3, 1, 0, 0, 1}
	records := `{"instances":[{"amount":12.5,"hour":3,"country":"FR","is_foreign":true}]}`
	v2 := func(rest string) string {
		return `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,6],"data":[12.5,3,1,0,0,1]}]` + rest + `}`
	}
	bin, binHeader := (&binaryBuilder{}).binary(engine.NewTensor("input", []int64{1, 6}, x)).request("")
	type shape struct {
		what, path, body, header string
	}
	shapes := []shape{
		{"records", "/v1/models/%s:predict", records, ""},
		{"V2 JSON", "/v2/models/%s/infer", v2(""), ""},
		{"V2 JSON, one output", "/v2/models/%s/infer", v2(`,"outputs":[{"name":"probabilities"}]`), ""},
		{"V2 JSON, binary output", "/v2/models/%s/infer", v2(`,"outputs":[{"name":"probabilities","parameters":{"binary_data":true}}]`), ""},
		{"V2 binary input", "/v2/models/%s/versions/1/infer", string(bin), binHeader},
	}
	send := func(s shape, model string) response {
		return ts.post(t, fmt.Sprintf(s.path, model), []byte(s.body), s.header)
	}
	st := ts.postUntilHit(t, "cached", func() response { return send(shapes[0], "cached") })
	seen := map[string]bool{}
	for round := range 2 {
		for _, s := range shapes {
			got, want := send(s, "cached"), send(s, "direct")
			if got.status != 200 || want.status != 200 {
				t.Fatalf("%s: %d %s, without the cache %d %s", s.what, got.status, got.body, want.status, want.body)
			}
			for _, id := range anyPredictionID.FindAll(got.body, -1) {
				if seen[string(id)] {
					t.Errorf("%s: prediction id %s answered twice", s.what, id)
				}
				seen[string(id)] = true
			}
			norm := func(b []byte) []byte {
				return anyPredictionID.ReplaceAll(bytes.ReplaceAll(b, cachedName, directName), []byte("<id>"))
			}
			if !bytes.Equal(norm(got.body), norm(want.body)) || got.header.Get(binaryHeader) != want.header.Get(binaryHeader) ||
				got.header.Get("Content-Type") != want.header.Get("Content-Type") || got.header.Get("X-Model-Version") != "1" {
				t.Errorf("%s from the cache: %v %q; without it: %v %q", s.what, got.header, got.body, want.header, want.body)
			}
			now := ts.cacheStats(t, "cached")
			if now.hits != st.hits+1 || now.misses != st.misses {
				t.Errorf("round %d, %s: hits %v -> %v, misses %v -> %v; want one more hit", round, s.what, st.hits, now.hits, st.misses, now.misses)
			}
			st = now
		}
	}
	if ts.cacheStats(t, "direct") != (cacheStats{-1, -1, -1, -1}) {
		t.Error("cache series reported for a model without a cache block")
	}
}

// TestCacheNeverAnswersForAnotherVersion hammers a model with a cache
// while its rollout moves between two versions (rollback, promote, a
// canary split with sticky keys), with requests that name no version and
// requests that name one, and checks that every answer is the answer of
// the version that says it answered.
func TestCacheNeverAnswersForAnotherVersion(t *testing.T) {
	dir := t.TempDir()
	mlp := func(seed uint64) *onnx.MLP { return onnx.RandomMLP(seed, onnx.ActivationNone, 3, 8, 2) }
	x := []float32{0.5, -1, 2}
	want := map[string][]float32{"1": mlp(1).Predict(x), "2": mlp(2).Predict(x)}
	testenv.Publish(t, dir, "m", mlp(1).Model())
	testenv.Publish(t, dir, "m", mlp(2).Model())
	if err := os.WriteFile(filepath.Join(dir, "m", modelstore.PolicyFile), []byte(cachePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := serveCached(t, dir)
	body := requestJSON("input", "FP32", []int64{1, 3}, x)

	stop := make(chan struct{})
	var failures sync.Map // string -> true
	var answered atomic.Int64
	var wg sync.WaitGroup
	paths := []string{"/v2/models/m/infer", "/v2/models/m/versions/1/infer", "/v2/models/m/versions/2/infer"}
	for c := range 6 {
		wg.Go(func() {
			client := &http.Client{Timeout: waitLimit}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := paths[(c+i)%len(paths)]
				req, _ := http.NewRequest("POST", ts.url+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(routingKeyHeader, "user-"+strconv.Itoa(i%16))
				resp, err := client.Do(req)
				if err != nil {
					failures.Store(err.Error(), true)
					continue
				}
				var out inferResponse
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				version := resp.Header.Get("X-Model-Version")
				if resp.StatusCode == http.StatusServiceUnavailable {
					continue // a named version between its unload and its load
				}
				w := want[version]
				switch {
				case resp.StatusCode != 200 || err != nil:
					failures.Store(fmt.Sprintf("%s: status %d (%v) from version %q", path, resp.StatusCode, err, version), true)
				case strings.Contains(path, "/versions/") && !strings.Contains(path, "/versions/"+version+"/"):
					failures.Store(fmt.Sprintf("%s answered by version %s", path, version), true)
				case out.ModelVersion != version || len(out.Outputs) != 1 || near(out.Outputs[0].Data, w, 1e-4) != nil:
					failures.Store(fmt.Sprintf("%s: version %q answered %v; its answer is %v", path, version, out.Outputs, w), true)
				default:
					answered.Add(1)
				}
			}
		})
	}
	write := func(st string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "m", rollout.StateFile), []byte(st), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := ts.store.Rescan(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		write(`{"stable": 1, "strategy": "manual", "actor": "test", "reason": "rollback"}`)
		until(t, "version 1 serving", func() bool { return ts.servedVersion(t, "m") == "1" })
		write(`{"stable": 1, "candidate": 2, "strategy": "canary", "step": 1, "weight": 5000, "actor": "test", "reason": "canary"}`)
		until(t, "the canary split", func() bool {
			rt := ts.store.Table().Route("m")
			return rt != nil && len(rt.Arms()) == 2
		})
		time.Sleep(20 * time.Millisecond) // some traffic on the split
		write(`{"stable": 2, "strategy": "manual", "actor": "test", "reason": "promote"}`)
		until(t, "version 2 serving", func() bool { return ts.servedVersion(t, "m") == "2" })
	}
	close(stop)
	wg.Wait()
	failures.Range(func(k, _ any) bool {
		t.Error(k)
		return true
	})
	st := ts.cacheStats(t, "m")
	if st.hits <= 0 || answered.Load() == 0 {
		t.Fatalf("%d answers checked, %v from the cache; the test needs both", answered.Load(), st.hits)
	}
	t.Logf("%d answers checked, cache %+v", answered.Load(), st)
}

// TestCachePolicyEvictionsAndTTL turns a model's cache on through
// policy.yaml with a small max_bytes, checks that evictions are counted
// and the bytes stay within it, that an answer expires after its ttl,
// and that removing the block turns the cache off.
func TestCachePolicyEvictionsAndTTL(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", onnx.RandomMLP(3, onnx.ActivationSoftmax, 3, 4, 2).Model())
	ts := serveCached(t, dir)
	row := func(i int) string { return requestJSON("input", "FP32", []int64{1, 3}, []float32{float32(i), 1, 2}) }
	for range 3 {
		ts.infer(t, "/v2/models/m/infer", row(0))
	}
	if st := ts.cacheStats(t, "m"); st.hits != -1 {
		t.Fatalf("cache series %+v without a cache block", st)
	}

	const maxBytes, ttl = 4096, 500 * time.Millisecond
	ts.setPolicy(t, "m", fmt.Sprintf("cache:\n  max_bytes: %d\n  ttl: %v\n", maxBytes, ttl))
	for i := range 200 { // twice each: an answer is stored when its question misses again
		ts.infer(t, "/v2/models/m/infer", row(i))
		ts.infer(t, "/v2/models/m/infer", row(i))
	}
	until(t, "an eviction", func() bool { return ts.cacheStats(t, "m").evictions > 0 })
	if st := ts.cacheStats(t, "m"); st.bytes <= 0 || st.bytes > maxBytes || st.misses < 200 {
		t.Errorf("after 200 rows twice in %d bytes: %+v; want bytes within them, and at least 200 misses", maxBytes, st)
	}

	// An answer expires after the ttl: the same request misses again.
	st := ts.postUntilHit(t, "m", func() response { return ts.do(t, "POST", "/v2/models/m/infer", row(-1)) })
	time.Sleep(2 * ttl)
	ts.infer(t, "/v2/models/m/infer", row(-1))
	if now := ts.cacheStats(t, "m"); now.hits != st.hits || now.misses != st.misses+1 {
		t.Errorf("after twice the ttl: hits %v -> %v, misses %v -> %v; want one more miss", st.hits, now.hits, st.misses, now.misses)
	}

	ts.setPolicy(t, "m", "")
	for range 3 {
		ts.infer(t, "/v2/models/m/infer", row(-1))
	}
	if st := ts.cacheStats(t, "m"); st.hits != -1 || st.bytes != -1 {
		t.Fatalf("cache series %+v once the cache block is gone", st)
	}
}

// TestCacheMetricsUnderLoad drives concurrent V2 and records requests
// over a few repeated rows at a cache too small for them all, and checks
// that hits, misses, evictions and bytes all moved, that every answer was
// either a hit or a miss, and that only the misses reached the version's
// rollout statistics.
func TestCacheMetricsUnderLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := modelstore.Publish(dir, "m", recordsFraud.Model().Marshal(), modelstore.PublishOptions{
		CreatedBy: "test", Features: recFraudFeatures(), Classes: []string{"legit", "fraud"}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "m", modelstore.PolicyFile), []byte("cache:\n  max_bytes: 4KiB\n  ttl: 1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := serveCached(t, dir)
	const clients, perClient, rows = 6, 150, 40
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				amount := (c*7 + i*i) % rows
				path, body := "/v2/models/m/infer", requestJSON("input", "FP32", []int64{1, 6}, []float32{float32(amount), 3, 1, 0, 0, 1})
				if i%2 == 1 {
					path, body = "/v1/models/m:predict", fmt.Sprintf(`{"instances":[{"amount":%d,"hour":3,"country":"FR","is_foreign":true}]}`, amount)
				}
				r, err := ts.try("POST", path, body)
				if err == nil && r.status != 200 {
					err = fmt.Errorf("POST %s = %d %s", path, r.status, r.body)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := ts.cacheStats(t, "m")
	if st.hits <= 0 || st.misses <= 0 || st.evictions <= 0 || st.bytes <= 0 || st.hits+st.misses != clients*perClient {
		t.Fatalf("after %d requests over %d rows: %+v; want hits, misses, evictions and bytes, hits and misses adding up", clients*perClient, rows, st)
	}
	v, err := ts.store.Lookup("m", 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := v.Stats.Snapshot().Requests; n != uint64(st.misses) {
		t.Errorf("rollout statistics counted %d requests; want the %v misses only", n, st.misses)
	}
	if math.IsNaN(st.bytes) {
		t.Error("switchyard_cache_bytes is NaN")
	}
}
