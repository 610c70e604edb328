package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// soakRecordsModel is the model Soak's records requests go to: Compare's
// small model with the records schema of RecordsCost, published once.
const soakRecordsModel = "records"

// soakKind is a kind of request Soak sends: where, what, and the status
// it expects.
type soakKind struct {
	name   string
	path   string // the request URI after http://addr
	body   []byte
	status int
	// share is how many of every soakMixLen requests are of this kind.
	share int
}

// soakMixLen is the length of the cycle of kinds each connection sends.
const soakMixLen = 20

// soakKinds returns the kinds of request Soak sends, small being a valid
// one-row V2 request to the small model: per soakMixLen requests, 12 V2
// requests, 4 records requests and one of each bad request.
func soakKinds(small []byte) []soakKind {
	records, _ := recordsBodies(1)
	infer := "/v2/models/" + SmallModel + "/infer"
	return []soakKind{
		{name: "V2 infer", path: infer, body: small, status: fasthttp.StatusOK, share: 12},
		{name: "records predict", path: "/v1/models/" + soakRecordsModel + ":predict", body: records, status: fasthttp.StatusOK, share: 4},
		{name: "malformed JSON", path: infer, body: []byte(`{"inputs":[{"name":"input",`), status: fasthttp.StatusBadRequest, share: 1},
		{name: "wrong shape", path: infer, body: InferBody("input", 1, 29, 3), status: fasthttp.StatusBadRequest, share: 1},
		{name: "unknown model", path: "/v2/models/no-such-model/infer", body: small, status: fasthttp.StatusNotFound, share: 1},
		{name: "invalid record", path: "/v1/models/" + soakRecordsModel + ":predict", body: []byte(`{"instances":[{"f00":"twelve"}]}`),
			status: fasthttp.StatusUnprocessableEntity, share: 1},
	}
}

// soakMix returns the order in which a connection sends the kinds: each
// as often as its share, the bad ones spread out.
func soakMix(kinds []soakKind) []int {
	mix := make([]int, 0, soakMixLen)
	for len(mix) < soakMixLen {
		for i := range kinds {
			if kinds[i].share > 0 && countOf(mix, i) < kinds[i].share {
				mix = append(mix, i)
			}
		}
	}
	return mix
}

// countOf counts x in s.
func countOf(s []int, x int) int {
	n := 0
	for _, v := range s {
		if v == x {
			n++
		}
	}
	return n
}

// soakCount is what a window or the report counts of one kind.
type soakCount struct {
	requests, expected int64
	// unexpected counts the other answers by what they were: "status
	// 503", "timeout" or "transport".
	unexpected map[string]int64
}

func (c *soakCount) unexpectedCount() int64 {
	var n int64
	for _, v := range c.unexpected {
		n += v
	}
	return n
}

// soakWindow is what one connection recorded since the last sample.
type soakWindow struct {
	// lat holds the latencies of the answers expected to be 200 that
	// were, from each request's due time.
	lat   []time.Duration
	kinds []soakCount
}

func newSoakWindow(kinds int) soakWindow {
	return soakWindow{lat: make([]time.Duration, 0, 1024), kinds: make([]soakCount, kinds)}
}

// soakWorker is one connection's record. Its worker writes win and the
// sampler takes it, both under mu. sleeper is the worker's alone; the
// run closes it once the worker is done.
type soakWorker struct {
	mu      sync.Mutex
	win     soakWindow
	sleeper *sleeper
}

// take returns what the worker recorded and starts a new window.
func (w *soakWorker) take(kinds int) soakWindow {
	w.mu.Lock()
	defer w.mu.Unlock()
	win := w.win
	w.win = newSoakWindow(kinds)
	return win
}

// maxSoakFailures bounds the unexpected answers the report describes.
const maxSoakFailures = 20

// drive sends the mix of kinds over one connection of client, the i-th,
// one request every Connections/Rate seconds, until ctx is done. A
// request due while the previous one is still out is sent as soon as it
// returns, and its latency counts from its due time.
func (r *soakRun) drive(ctx context.Context, client *fasthttp.HostClient, w *soakWorker, i int) {
	reqs := make([]*fasthttp.Request, len(r.kinds))
	for k, kind := range r.kinds {
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		req.SetRequestURI("http://" + client.Addr + kind.path)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(kind.body) // read-only for the whole run
		reqs[k] = req
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	mix := soakMix(r.kinds)
	gap := float64(time.Second) * float64(r.cfg.Connections) / r.cfg.Rate
	// Each connection starts at its own offset in the mix and the gap.
	first := r.start.Add(time.Duration(gap * float64(i) / float64(r.cfg.Connections)))
	for n := 0; ; n++ {
		due := first.Add(time.Duration(gap * float64(n)))
		if !waitUntil(ctx, timer, w.sleeper, due) {
			return
		}
		k := mix[(n+i)%len(mix)]
		err := client.Do(reqs[k], resp)
		done := time.Now()
		status := resp.StatusCode()
		what := soakOutcome(&r.kinds[k], status, err)
		w.mu.Lock()
		c := &w.win.kinds[k]
		c.requests++
		switch {
		case what == "":
			c.expected++
			if status == fasthttp.StatusOK {
				w.win.lat = append(w.win.lat, done.Sub(due))
			}
		default:
			if c.unexpected == nil {
				c.unexpected = map[string]int64{}
			}
			c.unexpected[what]++
		}
		w.mu.Unlock()
		if what != "" {
			r.fail(done, &r.kinds[k], what, resp, err)
		}
	}
}

// soakOutcome classifies an answer of kind k: "" when it is the status k
// expects, else what it was.
func soakOutcome(k *soakKind, status int, err error) string {
	switch {
	case errors.Is(err, fasthttp.ErrTimeout):
		return "timeout"
	case err != nil:
		return "transport"
	case status != k.status:
		return "status " + strconv.Itoa(status)
	}
	return ""
}

// fail records an unexpected answer, while fewer than maxSoakFailures
// are.
func (r *soakRun) fail(at time.Time, k *soakKind, what string, resp *fasthttp.Response, err error) {
	f := SoakFailure{At: r.since(at), Kind: k.name, What: what}
	if err != nil {
		f.Detail = err.Error()
	} else {
		f.Version = string(resp.Header.Peek("X-Model-Version"))
		f.Detail = fmt.Sprintf("%.200s", resp.Body())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failures) < maxSoakFailures {
		r.failures = append(r.failures, f)
	}
}
