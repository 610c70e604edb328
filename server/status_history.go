package server

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/server/internal/openapi"
)

// DefaultHistoryInterval is how often the server samples each version's
// traffic for the status page when Config leaves HistoryInterval zero.
const DefaultHistoryInterval = 2 * time.Second

// historyPoints is how many intervals the history keeps per version: five
// minutes at DefaultHistoryInterval.
const historyPoints = 150

// historyPoint is one interval of one version's traffic, from the
// difference of two samples of the request metrics. The latencies are
// absent (zero) for an interval without requests.
type historyPoint struct {
	At        time.Time `json:"at"`
	RPS       float64   `json:"rps"`
	ErrorRate float64   `json:"error_rate"` // share of answers with status >= 500 (4xx are the client's)
	P50       float64   `json:"p50_seconds,omitempty"`
	P99       float64   `json:"p99_seconds,omitempty"`
}

// historyKey names one version of one model, by the labels of its series.
type historyKey struct{ model, version string }

// historyTotals is what a sample reads of one version: its answers, its
// server errors and its latency histogram's cumulative bucket counts.
type historyTotals struct {
	requests, errors float64
	bounds           []float64
	buckets          []uint64 // cumulative, as Prometheus keeps them
}

// history keeps the last points of each version's traffic, at most
// limit per version; a version absent from a sample (its series were
// forgotten when it left memory) leaves the history. One goroutine adds
// (the sampler Serve runs); any number read, under mu.
type history struct {
	limit int
	mu    sync.Mutex
	last  map[historyKey]historyTotals
	at    time.Time
	ring  map[historyKey][]historyPoint
}

// newHistory returns a history of at most limit points per version.
func newHistory(limit int) *history {
	return &history{limit: limit, last: map[historyKey]historyTotals{}, ring: map[historyKey][]historyPoint{}}
}

// readTotals collects the requests counter and the latency histogram into
// totals per version, summed over their statuses. The series of requests
// that reached no version (empty model label) are left out.
func readTotals(requests *prometheus.CounterVec, latency *prometheus.HistogramVec) map[historyKey]historyTotals {
	out := map[historyKey]historyTotals{}
	each := func(c prometheus.Collector, f func(historyKey, string, *dto.Metric)) {
		ch := make(chan prometheus.Metric, 64)
		go func() { c.Collect(ch); close(ch) }() // ends when Collect has sent every series
		for pm := range ch {
			var m dto.Metric
			if pm.Write(&m) != nil {
				continue
			}
			var k historyKey
			var status string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "model":
					k.model = l.GetValue()
				case "version":
					k.version = l.GetValue()
				case "status":
					status = l.GetValue()
				}
			}
			if k.model != "" {
				f(k, status, &m)
			}
		}
	}
	each(requests, func(k historyKey, status string, m *dto.Metric) {
		t := out[k]
		n := m.GetCounter().GetValue()
		t.requests += n
		if len(status) == 3 && status[0] == '5' {
			t.errors += n
		}
		out[k] = t
	})
	each(latency, func(k historyKey, _ string, m *dto.Metric) {
		t := out[k]
		hist := m.GetHistogram()
		bs := hist.GetBucket() // without the +Inf bucket, which is the sample count
		if t.bounds == nil {
			t.bounds, t.buckets = make([]float64, len(bs)+1), make([]uint64, len(bs)+1)
			for i, b := range bs {
				t.bounds[i] = b.GetUpperBound()
			}
			t.bounds[len(bs)] = math.Inf(1)
		}
		if len(bs)+1 != len(t.buckets) {
			return // the statuses of one version share the buckets
		}
		for i, b := range bs {
			t.buckets[i] += b.GetCumulativeCount()
		}
		t.buckets[len(bs)] += hist.GetSampleCount()
		out[k] = t
	})
	return out
}

// add records a sample taken at now: a point per version seen in the
// previous sample too, and forgets the versions it does not hold.
func (h *history) add(now time.Time, totals map[historyKey]historyTotals) {
	h.mu.Lock()
	defer h.mu.Unlock()
	dt := now.Sub(h.at).Seconds()
	for k := range h.ring {
		if _, ok := totals[k]; !ok {
			delete(h.ring, k)
		}
	}
	for k, t := range totals {
		// A version without series at the previous sample answered all
		// its requests since: prev is zero. Before a first sample there
		// is no interval, and counts that went down were restarted.
		prev := h.last[k]
		if h.at.IsZero() || dt <= 0 || t.requests < prev.requests {
			continue
		}
		p := historyPoint{At: now, RPS: (t.requests - prev.requests) / dt}
		if n := t.requests - prev.requests; n > 0 {
			p.ErrorRate = (t.errors - prev.errors) / n
			delta := make([]uint64, len(t.buckets))
			for i := range t.buckets {
				if i < len(prev.buckets) && t.buckets[i] >= prev.buckets[i] {
					delta[i] = t.buckets[i] - prev.buckets[i]
				} else {
					delta[i] = t.buckets[i]
				}
			}
			p.P50, p.P99 = bucketQuantile(0.5, t.bounds, delta), bucketQuantile(0.99, t.bounds, delta)
		}
		r := append(h.ring[k], p)
		if len(r) > h.limit {
			r = r[len(r)-h.limit:]
		}
		h.ring[k] = r
	}
	h.last, h.at = totals, now
}

// historySeries is one version's points, oldest first.
type historySeries struct {
	Model   string         `json:"model"`
	Version string         `json:"version"`
	Points  []historyPoint `json:"points"`
}

// series returns a copy of every version's points, by model and version.
func (h *history) series() []historySeries {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]historySeries, 0, len(h.ring))
	for k, r := range h.ring {
		out = append(out, historySeries{Model: k.model, Version: k.version, Points: slices.Clone(r)})
	}
	slices.SortFunc(out, func(a, b historySeries) int {
		return cmp.Or(cmp.Compare(a.Model, b.Model), cmp.Compare(len(a.Version), len(b.Version)), cmp.Compare(a.Version, b.Version))
	})
	return out
}

// bucketQuantile estimates the q quantile of the observations counted in
// cumulative buckets with upper bounds bounds, interpolating linearly
// inside the bucket that holds it as Prometheus' histogram_quantile does;
// 0 when there is none. Past the last bound it answers the last bound.
func bucketQuantile(q float64, bounds []float64, cumulative []uint64) float64 {
	if len(cumulative) == 0 || cumulative[len(cumulative)-1] == 0 {
		return 0
	}
	total := float64(cumulative[len(cumulative)-1])
	rank := q * total
	for i, c := range cumulative {
		if float64(c) >= rank {
			lo, below := 0.0, 0.0
			if i > 0 {
				lo, below = bounds[i-1], float64(cumulative[i-1])
			}
			hi := bounds[i]
			if math.IsInf(hi, 1) {
				return lo
			}
			in := float64(c) - below
			if in <= 0 {
				return hi
			}
			return lo + (hi-lo)*(rank-below)/in
		}
	}
	return bounds[len(bounds)-1]
}

// sampleHistory adds a sample of the request metrics to the history
// every s.historyEvery until stop closes. It runs on its own goroutine,
// which Serve starts and waits for.
func (s *Server) sampleHistory(stop <-chan struct{}) {
	t := time.NewTicker(s.historyEvery)
	defer t.Stop()
	s.history.add(time.Now(), readTotals(s.metrics.requests, s.metrics.latency))
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			s.history.add(now, readTotals(s.metrics.requests, s.metrics.latency))
		}
	}
}

// historyJSON is the answer of GET /admin/history.
type historyJSON struct {
	IntervalSeconds float64         `json:"interval_seconds"`
	WindowSeconds   float64         `json:"window_seconds"`
	Series          []historySeries `json:"series"`
}

// serveHistory serves GET /admin/history: each version's requests per
// second, error rate and p50 and p99 latency, one point per sampling
// interval over the last historyPoints intervals, for the status page.
// A version appears once it has answered a request and leaves when it
// leaves memory.
func (s *Server) serveHistory(ctx *fasthttp.RequestCtx) {
	httpapi.WriteJSON(ctx, fasthttp.StatusOK, historyJSON{IntervalSeconds: s.historyEvery.Seconds(),
		WindowSeconds: (time.Duration(historyPoints) * s.historyEvery).Seconds(), Series: s.history.series()})
}

// tagOperations is the tag of package admin's operations, which declares
// it; GET /admin/history is listed with them.
const tagOperations = "Operations"

// historyOp is GET /admin/history's operation in /openapi.json.
func historyOp() *openapi.Operation {
	o := openapi.Op(tagOperations, "adminHistory", "Each version's recent traffic, for the status page",
		openapi.JSONOK("interval_seconds, window_seconds and series: per model and version, points (at, rps, error_rate, "+
			"and p50_seconds and p99_seconds when the interval had requests), oldest first.", &openapi.Schema{Type: openapi.TypeObject}),
		"Unauthorized")
	o.Security = []map[string][]string{{}, {"adminToken": {}}}
	return o
}
