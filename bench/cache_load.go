package bench

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/valyala/fasthttp"
)

// Fixtures of CacheCost's two workloads.
const (
	// cacheRowsLog2 is the base-2 logarithm of the number of distinct
	// rows the repeated workload draws its requests from.
	cacheRowsLog2 = 6
	// CacheRows is that number.
	CacheRows = 1 << cacheRowsLog2
	// cacheRowSeed seeds the first of them; row i is drawn from
	// cacheRowSeed+i.
	cacheRowSeed = 100
	// cacheMissSpan is how many requests of the all-miss workload carry
	// distinct rows: its first feature is n mod cacheMissSpan over
	// cacheMissSpan, which float32 holds exactly, so rows repeat only
	// after that many requests in one phase.
	cacheMissSpan = 1 << 24
)

// cacheWorkload is what CacheCost's load sends: a Config.Vary that makes
// each request's one-row JSON body for the small model.
type cacheWorkload struct {
	// misses tells the all-miss workload from the repeated one.
	misses bool
	// rows are the repeated workload's CacheRows bodies.
	rows [][]byte
	// head and tail are the all-miss workload's body around the value of
	// its first feature.
	head, tail []byte
}

// newCacheWorkload builds the repeated workload, or with misses the
// all-miss one, for a model of features FP32 features called "input".
func newCacheWorkload(features int, misses bool) *cacheWorkload {
	w := &cacheWorkload{misses: misses}
	if !misses {
		w.rows = make([][]byte, CacheRows)
		for i := range w.rows {
			w.rows[i] = InferBody("input", 1, features, cacheRowSeed+uint64(i))
		}
		return w
	}
	body := InferBody("input", 1, features, cacheRowSeed)
	data := []byte(`"data":[`)
	start := bytes.Index(body, data) + len(data)
	end := start + bytes.IndexAny(body[start:], ",]")
	w.head, w.tail = body[:start], body[end:]
	return w
}

// vary appends the body of request n to dst: in the repeated workload,
// one of the CacheRows rows, picked by a multiplicative hash of n so that
// every connection sends each of them; in the all-miss workload, the
// fixed row with its first feature set to n mod cacheMissSpan over
// cacheMissSpan, in [0, 1), which no other request below cacheMissSpan
// carries. It allocates nothing once dst has room; it implements
// Config.Vary.
func (w *cacheWorkload) vary(dst []byte, n uint64) []byte {
	if !w.misses {
		return append(dst, w.rows[(n*0x9e3779b97f4a7c15)>>(64-cacheRowsLog2)]...)
	}
	dst = append(dst, w.head...)
	dst = strconv.AppendFloat(dst, float64(n%cacheMissSpan)/cacheMissSpan, 'g', -1, 64)
	return append(dst, w.tail...)
}

// cacheCounts are a model's response cache counters as GET /metrics
// shows them.
type cacheCounts struct {
	hits, misses int64
}

// scrapeCache reads the counters of model's response cache from the
// /metrics of the server at addr. It fails if the server shows none,
// which means the model has no cache.
func scrapeCache(addr, model string) (cacheCounts, error) {
	hc := &fasthttp.HostClient{Addr: addr, Name: "switchyard-bench-metrics", MaxConns: 1,
		MaxIdemponentCallAttempts: 1, ReadTimeout: DefaultTimeout, WriteTimeout: DefaultTimeout}
	defer hc.CloseIdleConnections()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + "/metrics")
	if err := hc.Do(req, resp); err != nil {
		return cacheCounts{}, fmt.Errorf("GET /metrics: %w", err)
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		return cacheCounts{}, fmt.Errorf("GET /metrics: status %d", resp.StatusCode())
	}
	labels := `{model="` + model + `"} `
	var c cacheCounts
	found := 0
	for line := range bytes.Lines(resp.Body()) {
		for _, m := range []struct {
			name string
			dst  *int64
		}{{"switchyard_cache_hits_total", &c.hits}, {"switchyard_cache_misses_total", &c.misses}} {
			rest, ok := bytes.CutPrefix(line, []byte(m.name+labels))
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(string(bytes.TrimSpace(rest)), 64)
			if err != nil {
				return cacheCounts{}, fmt.Errorf("GET /metrics: %s: %w", m.name, err)
			}
			*m.dst = int64(v)
			found++
		}
	}
	if found != 2 {
		return cacheCounts{}, errors.New("GET /metrics: no switchyard_cache_hits_total and switchyard_cache_misses_total for model " + model)
	}
	return c, nil
}
