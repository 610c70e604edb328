package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
)

func TestBucketQuantile(t *testing.T) {
	bounds := []float64{0.1, 0.2, 0.4}
	for _, c := range []struct {
		q    float64
		cum  []uint64
		want float64
	}{
		{0.5, []uint64{0, 10, 10}, 0.15},  // all in (0.1, 0.2]: the middle
		{0.5, []uint64{10, 10, 10}, 0.05}, // all in the first bucket, from 0
		{0.99, []uint64{0, 0, 100}, 0.398},
		{0.5, []uint64{0, 0, 0}, 0}, // nothing observed
	} {
		if got := bucketQuantile(c.q, bounds, c.cum); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("bucketQuantile(%v, %v) = %v; want %v", c.q, c.cum, got, c.want)
		}
	}
}

// TestHistoryDeltas samples real collectors: each point is the change
// since the sample before, errors are 5xx only, the ring keeps at most
// its limit, and a version whose series are deleted leaves the history.
func TestHistoryDeltas(t *testing.T) {
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "r_total", Help: "r"}, []string{"model", "version", "status"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "l_seconds", Help: "l", Buckets: []float64{0.1, 0.2, 0.4}},
		[]string{"model", "version", "status"})
	h := newHistory(3)
	t0 := time.Unix(1000, 0)
	serve := func(version, status string, n int, seconds float64) {
		for range n {
			reqs.WithLabelValues("m", version, status).Inc()
			lat.WithLabelValues("m", version, status).Observe(seconds)
		}
	}
	serve("1", "200", 100, 0.05) // before the first sample: not a point
	h.add(t0, readTotals(reqs, lat))
	serve("1", "200", 18, 0.15)
	serve("1", "500", 1, 0.15)
	serve("1", "400", 1, 0.15)
	h.add(t0.Add(2*time.Second), readTotals(reqs, lat))
	p := h.ring[historyKey{"m", "1"}]
	if len(p) != 1 {
		t.Fatalf("points %+v; want 1", p)
	}
	if p[0].RPS != 10 || p[0].ErrorRate != 0.05 || math.Abs(p[0].P50-0.15) > 1e-9 {
		t.Errorf("point %+v; want 10 req/s, 5%% errors (the 500, not the 400), p50 0.15", p[0])
	}
	serve("2", "200", 4, 0.3) // a version whose series are new: all of it is in the interval
	h.add(t0.Add(3*time.Second), readTotals(reqs, lat))
	if p := h.ring[historyKey{"m", "2"}]; len(p) != 1 || p[0].RPS != 4 || p[0].P50 <= 0.2 || p[0].P50 > 0.4 {
		t.Errorf("new version's points %+v; want one of 4 req/s with p50 in (0.2, 0.4]", p)
	}
	for i := range 5 {
		serve("1", "200", 1, 0.05)
		h.add(t0.Add(time.Duration(4+i)*time.Second), readTotals(reqs, lat))
	}
	if n := len(h.ring[historyKey{"m", "1"}]); n != 3 {
		t.Errorf("%d points kept; want the limit, 3", n)
	}
	for _, v := range []string{"1", "2"} {
		reqs.DeletePartialMatch(prometheus.Labels{"version": v})
		lat.DeletePartialMatch(prometheus.Labels{"version": v})
	}
	h.add(t0.Add(time.Minute), readTotals(reqs, lat))
	if len(h.ring) != 0 {
		t.Errorf("history %v after the version's series went; want none", h.ring)
	}
}

// historyAnswer is GET /admin/history's answer.
type historyAnswer struct {
	IntervalSeconds float64 `json:"interval_seconds"`
	WindowSeconds   float64 `json:"window_seconds"`
	Series          []struct {
		Model   string         `json:"model"`
		Version string         `json:"version"`
		Points  []historyPoint `json:"points"`
	} `json:"series"`
}

// TestHistoryEndpoint serves a model with a short sampling interval: once
// it has answered requests, GET /admin/history shows its version's
// points; a request for an unknown model makes no series, and a 400 is
// traffic but no error.
func TestHistoryEndpoint(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "mlp", testMLP.Model())
	ts := serveRegistry(t, dir, Config{HistoryInterval: 20 * time.Millisecond})
	body := requestJSON("input", "FP32", []int64{1, 30}, testenv.Rows(1, 30))
	var got historyAnswer
	until(t, "a point with requests and latency in /admin/history", func() bool {
		ts.infer(t, "/v2/models/mlp/infer", body)
		ts.do(t, "POST", "/v2/models/mlp/infer", `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"data":[1,2]}]}`)
		ts.do(t, "POST", "/v2/models/nope/infer", body)
		r := ts.do(t, "GET", "/admin/history", "")
		if r.status != 200 {
			t.Fatalf("GET /admin/history = %d %s", r.status, r.body)
		}
		got = historyAnswer{}
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatalf("GET /admin/history: %v in %s", err, r.body)
		}
		for _, s := range got.Series {
			for _, p := range s.Points {
				if p.RPS > 0 && p.P50 > 0 && p.P99 >= p.P50 {
					return true
				}
			}
		}
		return false
	})
	if got.IntervalSeconds != 0.02 || got.WindowSeconds != 0.02*historyPoints {
		t.Errorf("interval %v s, window %v s; want 0.02 and %v", got.IntervalSeconds, got.WindowSeconds, 0.02*historyPoints)
	}
	if len(got.Series) != 1 || got.Series[0].Model != "mlp" || got.Series[0].Version != "1" {
		t.Fatalf("series %+v; want mlp version 1 only (nope reached no version)", got.Series)
	}
	for _, p := range got.Series[0].Points {
		if p.ErrorRate != 0 || p.RPS < 0 || p.At.IsZero() {
			t.Errorf("point %+v; want no errors (a 400 is the client's), a rate, a time", p)
		}
	}
	if r := ts.do(t, "POST", "/admin/history", "{}"); r.status != 405 {
		t.Errorf("POST /admin/history = %d; want 405", r.status)
	}
}

// TestHistoryEndpointNeedsReadToken: with reads guarded, the history is
// a read like the rest of /admin.
func TestHistoryEndpointNeedsReadToken(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "mlp", testMLP.Model())
	ts := serveRegistry(t, dir, Config{Access: testPolicy(t, access.Read, access.Write)})
	if r := ts.do(t, "GET", "/admin/history", ""); r.status != 401 {
		t.Errorf("GET /admin/history without a token = %d %s; want 401", r.status, r.body)
	}
	if r, err := ts.call("GET", "/admin/history", "", "", "Bearer "+readSecret); err != nil || r.status != 200 || !strings.Contains(string(r.body), `"series":[]`) {
		t.Errorf("GET /admin/history with a read token = %d %s; want 200 and no series yet (%v)", r.status, r.body, err)
	}
}

func TestNewRefusesNegativeHistoryInterval(t *testing.T) {
	store, err := modelstore.Open(context.Background(), modelstore.Config{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := New(Config{HistoryInterval: -time.Second}, store, prometheus.NewPedanticRegistry()); err == nil ||
		!strings.Contains(err.Error(), "HistoryInterval") {
		t.Errorf("New with a negative HistoryInterval = %v; want an error naming it", err)
	}
}

// TestHistoryListedWithOperations: GET /admin/history is in
// /openapi.json under a tag the document declares, package admin's.
func TestHistoryListedWithOperations(t *testing.T) {
	ts := startServer(t, Config{})
	var doc struct {
		Tags  []struct{ Name string } `json:"tags"`
		Paths map[string]map[string]struct {
			Tags []string `json:"tags"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(ts.do(t, "GET", "/openapi.json", "").body, &doc); err != nil {
		t.Fatal(err)
	}
	tags := doc.Paths["/admin/history"]["get"].Tags
	if len(tags) != 1 || tags[0] != tagOperations {
		t.Fatalf("GET /admin/history's tags %v; want [%s]", tags, tagOperations)
	}
	for _, tag := range doc.Tags {
		if tag.Name == tagOperations {
			return
		}
	}
	t.Errorf("no tag %q among the document's %v", tagOperations, doc.Tags)
}
