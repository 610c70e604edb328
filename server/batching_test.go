package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// heavyMLP takes long enough per batch (tens of milliseconds for 256 rows)
// for requests to pile up behind it.
var heavyMLP = onnx.RandomMLP(8, onnx.ActivationNone, 256, 1024, 1024, 1024, 4)

// startHeavy serves heavyMLP with one executor and the given policy.yaml.
func startHeavy(t *testing.T, policy string) (*testServer, *prometheus.Registry) {
	t.Helper()
	dir := t.TempDir()
	testenv.Publish(t, dir, "heavy", heavyMLP.Model())
	if err := os.WriteFile(filepath.Join(dir, "heavy", modelstore.PolicyFile), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	bm, err := batcher.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	store, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: quiet, BatchMetrics: bm,
		Batching: modelstore.Batching{Config: batcher.Config{Executors: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Logger: quiet}, store, reg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		store.Close()
	})
	return &testServer{Server: srv, url: "http://" + ln.Addr().String(), store: store, dir: dir}, reg
}

func heavyBody(rows int) string {
	return requestJSON("input", "FP32", []int64{int64(rows), 256}, rows0(rows*256))
}

func rows0(n int) []float32 { return testenv.Rows(uint64(n), n) }

// counter returns the value of a counter or a histogram's count in reg.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		total := 0.0
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				total += c.GetValue()
			}
			if h := m.GetHistogram(); h != nil {
				total += float64(h.GetSampleCount())
			}
		}
		return total
	}
	return 0
}

// TestQueueFullAnswers503 fills a one-row queue behind a long batch: the
// requests that find it full get 503 with Retry-After, the others their
// answers.
func TestQueueFullAnswers503(t *testing.T) {
	ts, reg := startHeavy(t, "batching:\n  max_queue_size: 1\n  max_batch_size: 1\n")
	long, one := heavyBody(1024), heavyBody(1)
	longDone := make(chan response, 1)
	go func() {
		r, err := ts.try("POST", "/v2/models/heavy/infer", long)
		if err != nil {
			t.Error(err)
		}
		longDone <- r
	}()
	waitForBatch(t, reg, 1) // the executor is busy with the long request
	var wg sync.WaitGroup
	statuses := make([]int, 11)
	for i := range statuses {
		wg.Go(func() {
			r, err := ts.try("POST", "/v2/models/heavy/infer", one)
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = r.status
			switch r.status {
			case 200:
			case 503:
				if r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "queue full") {
					t.Errorf("503 without Retry-After or reason: %v %s", r.header, r.body)
				}
			default:
				t.Errorf("status %d: %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	if r := <-longDone; r.status != 200 {
		t.Fatalf("long request = %d", r.status)
	}
	n503 := 0
	for _, s := range statuses {
		if s == 503 {
			n503++
		}
	}
	if n503 == 0 {
		t.Fatalf("statuses %v: no request found the queue full", statuses)
	}
	if got := counter(t, reg, "switchyard_queue_rejected_total"); got != float64(n503) {
		t.Fatalf("rejected counter = %v; want %d", got, n503)
	}
	// The server recovers: a request now gets its answer.
	got := ts.infer(t, "/v2/models/heavy/infer", one)
	closeTo(t, "after 503s", got.Outputs[0].Data, heavyMLP.Predict(rows0(256)))
}

// waitForBatch waits until at least n batches have started running.
func waitForBatch(t *testing.T, reg *prometheus.Registry, n float64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); counter(t, reg, "switchyard_batch_rows") < n; {
		if time.Now().After(deadline) {
			t.Fatalf("no batch started within 30s")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// TestDeadlineAnswers504WithoutRunning sends requests whose deadline passes
// before an executor can take them: they get 504 and are never run.
func TestDeadlineAnswers504WithoutRunning(t *testing.T) {
	ts, reg := startHeavy(t, "batching:\n  max_batch_size: 1\n")
	// A V2 timeout of 1µs has always passed by the time the request is
	// queued and taken.
	body := `{"parameters":{"timeout":1},` + strings.TrimPrefix(heavyBody(1), "{")
	r := ts.do(t, "POST", "/v2/models/heavy/infer", body)
	if r.status != 504 || !strings.Contains(string(r.body), "deadline") || r.header.Get("X-Model-Version") != "1" {
		t.Fatalf("expired request = %d %v %s; want 504 naming the deadline", r.status, r.header, r.body)
	}
	if timedOut, ran := counter(t, reg, "switchyard_queue_timeouts_total"), counter(t, reg, "switchyard_batch_rows"); timedOut != 1 || ran != 0 {
		t.Fatalf("after one expired request: %v timed out, %v batches run; want 1 and 0", timedOut, ran)
	}
	// The header form, behind a long batch.
	long, one := heavyBody(1024), heavyBody(1)
	done := make(chan response, 1)
	go func() {
		r, err := ts.try("POST", "/v2/models/heavy/infer", long)
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	waitForBatch(t, reg, 1)
	req, _ := http.NewRequest("POST", ts.url+"/v2/models/heavy/infer", strings.NewReader(one))
	req.Header.Set("X-Request-Timeout-Ms", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if long := <-done; long.status != 200 {
		t.Fatalf("long request = %d", long.status)
	}
	// The 1 ms passes while the long batch runs, unless the machine is fast
	// enough to finish 1024 rows first; then the request runs and succeeds.
	timedOut, ran := counter(t, reg, "switchyard_queue_timeouts_total"), counter(t, reg, "switchyard_batch_rows")
	switch resp.StatusCode {
	case 504:
		if timedOut != 2 || ran != 1 {
			t.Fatalf("after two expired requests and one long one: %v timed out, %v batches run; want 2 and 1", timedOut, ran)
		}
	case 200:
		t.Log("the long batch finished within 1 ms; the header deadline was not exercised")
	default:
		t.Fatalf("header-timeout request = %d", resp.StatusCode)
	}
	// A malformed header is the client's error.
	req, _ = http.NewRequest("POST", ts.url+"/v2/models/heavy/infer", strings.NewReader(heavyBody(1)))
	req.Header.Set("X-Request-Timeout-Ms", "soon")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 400 {
		t.Fatalf("bad timeout header = %v, %v; want 400", resp, err)
	}
}

// TestConcurrentMixedRows sends requests of mixed row counts from many
// goroutines (run with the race detector) and checks every answer.
func TestConcurrentMixedRows(t *testing.T) {
	ts := startServer(t, Config{})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 15 {
				n := 1 + (g+i)%4
				x := testenv.Rows(uint64(g*100+i), n*30)
				r, err := ts.try("POST", "/v2/models/mlp/infer", requestJSON("input", "FP32", []int64{int64(n), 30}, x))
				if err != nil {
					t.Error(err)
					return
				}
				var out inferResponse
				if r.status != 200 || json.Unmarshal(r.body, &out) != nil {
					t.Errorf("status %d: %s", r.status, r.body)
					return
				}
				want := testMLP.Predict(x)
				for k, w := range want {
					if d := out.Outputs[0].Data[k] - float64(w); d > 1e-5 || d < -1e-5 {
						t.Errorf("goroutine %d request %d: value %d = %v; want %v", g, i, k, out.Outputs[0].Data[k], w)
						return
					}
				}
				// The fixed-shape model runs request by request.
				r = ts.do(t, "POST", "/v2/models/fixed/infer", requestJSON("input", "FP32", []int64{1, 4}, []float32{1, 2, 3, float32(g)}))
				if r.status != 200 || !strings.Contains(string(r.body), `"data":[2,4,6,`) {
					t.Errorf("fixed model = %d %s", r.status, r.body)
					return
				}
			}
		})
	}
	wg.Wait()
}
