package bench

import (
	"bytes"
	"slices"
	"testing"

	"github.com/valyala/fastjson"
)

// TestCacheWorkloadRepeated checks that the repeated workload sends
// exactly its CacheRows rows, each a valid request, spread over them.
func TestCacheWorkloadRepeated(t *testing.T) {
	w := newCacheWorkload(30, false)
	seen := map[string]int{}
	var buf []byte
	for n := range uint64(64 * CacheRows) {
		buf = w.vary(buf[:0], n)
		seen[string(buf)]++
	}
	if len(seen) != CacheRows {
		t.Fatalf("%d distinct bodies in %d requests; want %d", len(seen), 64*CacheRows, CacheRows)
	}
	for body, count := range seen {
		checkOneRow(t, []byte(body), 30)
		if count < 16 {
			t.Errorf("a row was sent %d times in %d requests; want about 64", count, 64*CacheRows)
		}
	}
}

// TestCacheWorkloadMisses checks that the all-miss workload gives every
// request number below its span a row of its own, changing only the
// first feature, to a value float32 holds exactly.
func TestCacheWorkloadMisses(t *testing.T) {
	w := newCacheWorkload(30, true)
	base := InferBody("input", 1, 30, cacheRowSeed)
	seen := map[float32]uint64{}
	var buf []byte
	f := func(n uint64) {
		t.Helper()
		buf = w.vary(buf[:0], n)
		vals := checkOneRow(t, buf, 30)
		if prev, ok := seen[vals[0]]; ok {
			t.Errorf("requests %d and %d carry the same first feature %v", prev, n, vals[0])
		}
		seen[vals[0]] = n
		if want := checkOneRow(t, base, 30); !slices.Equal(vals[1:], want[1:]) {
			t.Errorf("request %d: features after the first %v; want %v", n, vals[1:], want[1:])
		}
	}
	for n := range uint64(10000) {
		f(n)
	}
	for n := uint64(cacheMissSpan - 10000); n < cacheMissSpan; n++ {
		f(n)
	}
	if bytes.Equal(w.vary(nil, 1), w.vary(nil, 2)) {
		t.Error("requests 1 and 2 have the same body")
	}
}

// checkOneRow checks that body is a one-row V2 request of features FP32
// values and returns them as float32, as the server decodes them.
func checkOneRow(t *testing.T, body []byte, features int) []float32 {
	t.Helper()
	v, err := fastjson.ParseBytes(body)
	if err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	in := v.Get("inputs", "0")
	data := in.GetArray("data")
	if string(in.GetStringBytes("datatype")) != "FP32" || len(data) != features ||
		in.GetInt("shape", "0") != 1 || in.GetInt("shape", "1") != features {
		t.Fatalf("body %s: want one row of %d FP32 values", body, features)
	}
	vals := make([]float32, features)
	for i, d := range data {
		f, err := d.Float64()
		if err != nil {
			t.Fatalf("body %s: value %d: %v", body, i, err)
		}
		vals[i] = float32(f)
	}
	return vals
}
