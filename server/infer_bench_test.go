package server

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// newBenchServer serves the 30-64-2 test MLP without a listener: the
// benchmarks call the root handler directly, so they measure switchyard's
// own work (routing, decoding, the batch queue, onnxruntime, encoding,
// metrics) and not the kernel's TCP.
func newBenchServer(b *testing.B) *Server { return newBenchServerWith(b, Config{}) }

// newBenchServerWith is newBenchServer with cfg.
func newBenchServerWith(b *testing.B, cfg Config) *Server {
	b.Helper()
	dir := b.TempDir()
	testenv.Publish(b, dir, "mlp", testMLP.Model())
	reg := prometheus.NewRegistry()
	bm, err := batcher.NewMetrics(reg)
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	store, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: quiet, BatchMetrics: bm})
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
