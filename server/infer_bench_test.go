package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/respcache"
	"github.com/switchyard-ml/switchyard/tracking"
)

// newBenchServer serves the 30-64-2 test MLP without a listener: the
// benchmarks call the root handler directly, so they measure switchyard's
// own work (routing, decoding, the batch queue, onnxruntime, encoding,
// metrics) and not the kernel's TCP.
func newBenchServer(b *testing.B) *Server { return newBenchServerWith(b, Config{}) }

// newBenchServerWith is newBenchServer with cfg.
func newBenchServerWith(b *testing.B, cfg Config) *Server { return newBenchServerPolicy(b, cfg, "") }

// newBenchServerPolicy is newBenchServerWith with policy as the model's
// policy.yaml ("" for none).
func newBenchServerPolicy(b *testing.B, cfg Config, policy string) *Server {
	b.Helper()
	dir := b.TempDir()
	testenv.Publish(b, dir, "mlp", testMLP.Model())
	if policy != "" {
		if err := os.WriteFile(filepath.Join(dir, "mlp", modelstore.PolicyFile), []byte(policy), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	bm, err := batcher.NewMetrics(reg)
	if err != nil {
		b.Fatal(err)
	}
	cm, err := respcache.NewMetrics(reg)
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	store, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: quiet, BatchMetrics: bm, CacheMetrics: cm})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(store.Close)
	cfg.Logger = quiet
	srv, err := New(cfg, store, reg)
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// benchmarkInfer sends rows rows of 30 features, as JSON or, with binary,
// as binary data both ways.
func benchmarkInfer(b *testing.B, rows int, binary bool) {
	benchmarkInferOn(b, newBenchServer(b), rows, binary)
}

// benchmarkInferOn is benchmarkInfer against srv.
func benchmarkInferOn(b *testing.B, srv *Server, rows int, binary bool) {
	x := rows0(rows * 30)
	body := []byte(requestJSON("input", "FP32", []int64{int64(rows), 30}, x))
	header := ""
	if binary {
		in := codecTensor("input", []int64{int64(rows), 30}, x)
		body, header = new(binaryBuilder).binary(in).request(`"parameters":{"binary_data_output":true}`)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI("/v2/models/mlp/infer")
		ctx.Request.SetBody(body)
		if header != "" {
			ctx.Request.Header.Set(binaryHeader, header)
		}
		for pb.Next() {
			ctx.Response.Reset()
			srv.handle(&ctx)
			if ctx.Response.StatusCode() != 200 {
				b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
			}
		}
	})
}

// BenchmarkInfer measures one inference request through the handler.
func BenchmarkInfer(b *testing.B) {
	b.Run("rows=1", func(b *testing.B) { benchmarkInfer(b, 1, false) })
	b.Run("rows=64", func(b *testing.B) { benchmarkInfer(b, 64, false) })
	b.Run("rows=1/binary", func(b *testing.B) { benchmarkInfer(b, 1, true) })
	b.Run("rows=64/binary", func(b *testing.B) { benchmarkInfer(b, 64, true) })
}

// BenchmarkInferCache measures one-row requests with the response cache
// on against the same with it off: misses (every row unique, so each
// answer is looked up, computed and stored) against the same unique rows
// without the cache, which is the cost of a miss (bench --cache's target
// is at most 3%), and the same row again and again, all hits after the
// first.
func BenchmarkInferCache(b *testing.B) {
	const policy = "cache:\n  max_bytes: 64MiB\n  ttl: 5m\n"
	b.Run("unique/off", func(b *testing.B) { benchmarkInferRows(b, newBenchServer(b), true) })
	b.Run("unique/on", func(b *testing.B) { benchmarkInferRows(b, newBenchServerPolicy(b, Config{}, policy), true) })
	b.Run("repeated/off", func(b *testing.B) { benchmarkInferRows(b, newBenchServer(b), false) })
	b.Run("repeated/on", func(b *testing.B) { benchmarkInferRows(b, newBenchServerPolicy(b, Config{}, policy), false) })
}

// benchmarkInferRows sends one-row JSON requests to srv: each with a row
// of its own when unique, else the same row. Either way each request
// rewrites the first two values in place, so both cost the client alike.
func benchmarkInferRows(b *testing.B, srv *Server, unique bool) {
	x := rows0(30)
	x[0], x[1] = 10000, 10000
	body := []byte(requestJSON("input", "FP32", []int64{1, 30}, x))
	at := bytes.Index(body, []byte(`"data":[10000,10000,`)) + len(`"data":[`)
	var next atomic.Uint64
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI("/v2/models/mlp/infer")
		ctx.Request.SetBody(body)
		for pb.Next() {
			var n uint64
			if unique {
				n = next.Add(1)
			}
			p := ctx.Request.Body()
			// 1xxxx,1xxxx: two five-digit numbers, exact in FP32, unique
			// for 10^8 requests.
			fiveDigits(p[at:at+5], n%10000)
			fiveDigits(p[at+6:at+11], n/10000%10000)
			ctx.Response.Reset()
			srv.handle(&ctx)
			if ctx.Response.StatusCode() != 200 {
				panic(fmt.Sprintf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body()))
			}
		}
	})
}

// fiveDigits writes 10000+n, n below 10000, into dst's five bytes.
func fiveDigits(dst []byte, n uint64) {
	n += 10000
	for i := 4; i >= 0; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
}

// BenchmarkInferLogged measures a one-row request with the prediction log
// on, its writer running, against the same without (BenchmarkInfer's
// rows=1): the hot path's hand-off and the writer's share of the CPU.
func BenchmarkInferLogged(b *testing.B) {
	st, err := tracking.Open(context.Background(), b.TempDir(), tracking.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	l, err := tracking.NewPredictionLog(st, tracking.LogConfig{Logger: slog.New(slog.DiscardHandler)}, prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	benchmarkInferOn(b, newBenchServerWith(b, Config{PredictionLog: l}), 1, false)
}

// BenchmarkInferSidecars is BenchmarkInferLogged with the drift monitor
// on as well, both sampling every prediction, as bench --log-cost runs
// them: what the two sidecars cost the hot path and their goroutines.
func BenchmarkInferSidecars(b *testing.B) {
	st, err := tracking.Open(context.Background(), b.TempDir(), tracking.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.DiscardHandler)
	l, err := tracking.NewPredictionLog(st, tracking.LogConfig{Logger: quiet}, prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	m, err := drift.New(drift.Config{Logger: quiet}, prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { l.Run(ctx) })
	wg.Go(func() { m.Run(ctx) })
	b.Cleanup(func() { cancel(); wg.Wait() })
	benchmarkInferOn(b, newBenchServerWith(b, Config{PredictionLog: l, Drift: m}), 1, false)
}
