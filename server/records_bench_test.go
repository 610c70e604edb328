package server

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// recBenchFeatures is a schema for codecBenchSig's 30 FP32 columns, as a
// fraud model's might be: 26 numbers, a country one-hot over three
// columns and a bool.
func recBenchFeatures() []modelstore.Feature {
	fs := make([]modelstore.Feature, 0, 28)
	for c := range 26 {
		fs = append(fs, modelstore.Feature{Name: fmt.Sprintf("f%02d", c), Type: modelstore.TypeNumber, Position: c})
	}
	return append(fs,
		modelstore.Feature{Name: "country", Type: modelstore.TypeCategory, Values: []string{"FR", "DE", "US"},
			Encoding: modelstore.EncodeOneHot, Position: 26},
		modelstore.Feature{Name: "is_foreign", Type: modelstore.TypeBool, Position: 29})
}

// recBenchBodies returns a records request of rows instances of
// recBenchFeatures, from a fixed seed, and the V2 request that carries
// the same values as the model gets them: the same 30 FP32 columns.
// Numbers are written as clients holding float32 write them.
func recBenchBodies(rows int) (rec, v2 []byte) {
	rng := rand.New(rand.NewPCG(uint64(rows), 30))
	rec = append(rec, `{"instances":[`...)
	v2 = fmt.Appendf(v2, `{"inputs":[{"name":"input","shape":[%d,30],"datatype":"FP32","data":[`, rows)
	for r := range rows {
		if r > 0 {
			rec, v2 = append(rec, ','), append(v2, ',')
		}
		rec, v2 = append(rec, '{'), append(v2, '[')
		for c := range 26 {
			num := strconv.AppendFloat(nil, float64(float32(rng.NormFloat64())), 'g', -1, 32)
			rec = fmt.Appendf(rec, `"f%02d":%s,`, c, num)
			v2 = append(append(v2, num...), ',')
		}
		country, foreign := rng.IntN(3), rng.IntN(2) == 1
		rec = fmt.Appendf(rec, `"country":%q,"is_foreign":%t}`, []string{"FR", "DE", "US"}[country], foreign)
		onehot := []string{"1,0,0", "0,1,0", "0,0,1"}[country]
		v2 = fmt.Appendf(v2, "%s,%d]", onehot, map[bool]int{false: 0, true: 1}[foreign])
	}
	return append(rec, "]}"...), append(v2, "]}]}"...)
}

// BenchmarkDecodeRecords decodes and validates records against the
// 30-column schema, and for comparison the V2 request carrying the same
// values.
func BenchmarkDecodeRecords(b *testing.B) {
	sch := testRecordSchema(b, codecBenchSig(), recBenchFeatures(), "")
	for _, rows := range []int{1, 64} {
		rec, v2 := recBenchBodies(rows)
		b.Run(fmt.Sprintf("records/rows=%d", rows), func(b *testing.B) {
			var r records
			if err := decodeRecords(rec, sch, &r); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			for b.Loop() {
				if err := decodeRecords(rec, sch, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("v2/rows=%d", rows), func(b *testing.B) {
			sig := codecBenchSig()
			var r inferRequest
			if err := decodeInferRequest(v2, nil, sig, &r); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(v2)))
			b.ReportAllocs()
			for b.Loop() {
				if err := decodeInferRequest(v2, nil, sig, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendPredictResponse encodes the answer of a binary
// classifier with named classes.
func BenchmarkAppendPredictResponse(b *testing.B) {
	for _, rows := range []int{1, 64} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(uint64(rows), 2))
			probs := make([]float32, 2*rows)
			for i := 0; i < len(probs); i += 2 {
				p := rng.Float32()
				probs[i], probs[i+1] = 1-p, p
			}
			out := codecTensor("probabilities", []int64{int64(rows), 2}, probs)
			sch := &recordSchema{classes: []string{"legit", "fraud"}, width: 2}
			ids := newPredictionIDs()
			buf, err := appendPredictResponse(nil, "fraud", "2", sch, &out, rows, ids, 0)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = appendPredictResponse(buf[:0], "fraud", "2", sch, &out, rows, ids, ids.reserve(rows)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPredict measures one-row requests through the handler, records
// and V2 with the same values, against the 30-64-2 test MLP published
// with recBenchFeatures; as BenchmarkInfer, without a listener.
func BenchmarkPredict(b *testing.B) {
	dir := b.TempDir()
	if _, err := modelstore.Publish(dir, "mlp", testMLP.Model().Marshal(), modelstore.PublishOptions{
		Features: recBenchFeatures(), Classes: []string{"legit", "fraud"}}); err != nil {
		b.Fatal(err)
	}
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
	srv, err := New(Config{Logger: quiet}, store, reg)
	if err != nil {
		b.Fatal(err)
	}
	rec, v2 := recBenchBodies(1)
	for _, bc := range []struct {
		name, path string
		body       []byte
	}{
		{"records", "/v1/models/mlp:predict", rec},
		{"v2", "/v2/models/mlp/infer", v2},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var ctx fasthttp.RequestCtx
				ctx.Request.Header.SetMethod("POST")
				ctx.Request.SetRequestURI(bc.path)
				ctx.Request.SetBody(bc.body)
				for pb.Next() {
					ctx.Response.Reset()
					srv.handle(&ctx)
					if ctx.Response.StatusCode() != 200 {
						b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
					}
				}
			})
		})
	}
}
