//go:build !race

package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// TestDecodeRecordsAllocs pins that decoding valid records into warm
// scratch allocates nothing, on the one-pass path and on the full one.
func TestDecodeRecordsAllocs(t *testing.T) {
	strict := testRecordSchema(t, recMixedSig(), recMixedFeatures(), "")
	lax := testRecordSchema(t, recMixedSig(), recMixedFeatures(), modelstore.UnknownIgnore)
	f := func(sch *recordSchema, body string) {
		t.Helper()
		var r records
		b := []byte(body)
		if err := decodeRecords(b, sch, &r); err != nil { // warm up r and the parser
			t.Fatalf("decodeRecords(%s) = %v", body, err)
		}
		n := testing.AllocsPerRun(100, func() {
			if err := decodeRecords(b, sch, &r); err != nil {
				panic(err)
			}
		})
		if n != 0 {
			t.Errorf("decodeRecords(%s) into warm scratch: %v allocations; want 0", body, n)
		}
	}
	// The one-pass path.
	f(strict, `{"instances":[{"amount":12.5,"hour":7,"country":"DE","is_foreign":true,"merchant":"games","count":-3,"ratio":0.5,"flag":false},
		{"count":2147483647,"country":"US","hour":20,"amount":0.1}]}`)
	rec, _ := recBenchBodies(64)
	f(testRecordSchema(t, codecBenchSig(), recBenchFeatures(), ""), string(rec))
	// The full path: escapes, and unknown fields ignored.
	f(strict, `{"instances":[{"am\u006funt":12.5,"hour":7,"country":"D\u0045","count":-3,"ratio":1.7976931348623157e308}]}`)
	f(lax, `{"instances":[{"amount":12.5,"hour":7,"country":"DE","count":-3,"colour":"red","notes":{"a":[1,2]}}]}`)
}

// TestAppendPredictResponseAllocs pins that encoding an answer into a
// buffer with room allocates nothing, for a classifier and a regressor.
func TestAppendPredictResponseAllocs(t *testing.T) {
	probs := codecTensor("probabilities", []int64{3, 3}, []float32{0.1, 0.7, 0.2, 0.5, 0.25, 0.25, 0, 0, 1})
	values := codecTensor("value", []int64{3, 1}, []float64{-1.5, 0, 2e300})
	classifier := &recordSchema{classes: []string{"a", "b\n", "é"}, width: 3}
	unnamed := &recordSchema{width: 3}
	regressor := &recordSchema{width: 1}
	ids := newPredictionIDs()
	buf := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(100, func() {
		var err error
		for _, c := range []struct {
			sch *recordSchema
			out *engine.Tensor
		}{{classifier, &probs}, {unnamed, &probs}, {regressor, &values}} {
			if buf, err = appendPredictResponse(buf[:0], "fraud", "2", c.sch, c.out, 3, ids, ids.reserve(3)); err != nil {
				panic(err)
			}
		}
	})
	if n != 0 {
		t.Fatalf("appendPredictResponse into a buffer with room: %v allocations; want 0", n)
	}
}

// TestParseRecordsRouteAllocs pins that routing a records request
// allocates nothing.
func TestParseRecordsRouteAllocs(t *testing.T) {
	router := newTestRouter(t)
	for _, path := range []string{"/v1/models/fraud:predict", "/v1/models/fraud/versions/12:predict"} {
		p := []byte(path)
		n := testing.AllocsPerRun(100, func() {
			if e, _, err := router.Match([]byte("POST"), p); err != nil || !strings.HasSuffix(e.Path, ":predict") {
				panic(fmt.Sprint(e, err))
			}
		})
		if n != 0 {
			t.Errorf("Match(%q): %v allocations; want 0", path, n)
		}
	}
}
