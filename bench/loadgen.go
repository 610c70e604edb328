package bench

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// DefaultTimeout bounds one request when Config leaves Timeout zero.
const DefaultTimeout = 10 * time.Second

// Config describes one load run against one URL.
type Config struct {
	// URL is the only address the run sends requests to. It must be an
	// http:// URL; a missing port means 80.
	URL string
	// Method is the request method. Empty means POST when Body or Vary
	// is set and GET otherwise.
	Method string
	// Body is sent with every request. Run reads it from several
	// goroutines; it must not be modified until Run returns.
	Body []byte
	// Vary, if not nil, makes each request's body instead of Body: it
	// appends the body of request n to dst and returns the result. n is
	// unique within the run, warm-up included: worker w of the
	// Connections sends requests w, w+Connections, w+2*Connections and
	// so on. Workers call Vary at once, each from its own goroutine with
	// a dst of its own that it reuses from request to request (so a Vary
	// that only appends allocates nothing once dst has grown); Vary must
	// be safe for concurrent use and keep no reference to dst.
	Vary func(dst []byte, n uint64) []byte
	// ContentType is the request's Content-Type. Empty means
	// application/json.
	ContentType string
	// Header holds further request headers, by name, such as
	// BinaryHeader for a request in the binary tensor data extension.
	Header map[string]string
	// Connections is the number of TCP connections, each with its own
	// worker goroutine sending one request at a time. 0 means 1.
	Connections int
	// Rate, when positive, makes the run open-loop: requests are due at
	// exactly 1/Rate second intervals, whoever is free sends the next one,
	// and latency counts from the time a request was due, so a client or
	// server that falls behind shows up in the percentiles instead of
	// slowing the schedule down. 0 means closed-loop: each connection sends
	// its next request as soon as the previous response arrives.
	Rate float64
	// Warmup is run before the measured window; its requests are sent but
	// not counted. 0 means no warm-up.
	Warmup time.Duration
	// Duration is the measured window. Requests sent (closed loop) or due
	// (open loop) inside it are counted. It must be positive.
	Duration time.Duration
	// MaxRequests, when positive, ends the run early once that many
	// requests of the measured window have been sent. 0 means no bound.
	MaxRequests int64
	// RowsPerRequest is the number of rows each request carries, used only
	// to report rows per second. 0 means 1.
	RowsPerRequest int
	// Timeout bounds writing one request and reading its response. 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

// Result is what a load run measured. It is a plain value, safe to read
// from any goroutine once Run has returned it.
type Result struct {
	// URL, Mode ("closed" or "open"), Connections, Rate and RowsPerRequest
	// repeat the configuration.
	URL            string  `json:"url"`
	Mode           string  `json:"mode"`
	Connections    int     `json:"connections"`
	Rate           float64 `json:"rate,omitempty"`
	RowsPerRequest int     `json:"rows_per_request"`
	// Requests counts the measured requests that were sent, whatever
	// became of them.
	Requests int64 `json:"requests"`
	// OK counts those answered with status 200.
	OK int64 `json:"ok"`
	// Errors counts the others: another status or a transport error.
	Errors int64 `json:"errors"`
	// Status counts the answers by HTTP status.
	Status map[int]int64 `json:"status"`
	// TransportErrors counts requests that got no HTTP answer (refused,
	// reset, timed out).
	TransportErrors int64 `json:"transport_errors"`
	// FirstError is the text of one transport error, if there was any.
	FirstError string `json:"first_error,omitempty"`
	// Unsent counts open-loop requests that fell due in the measured window
	// but were still waiting for a free connection when it closed.
	Unsent int64 `json:"unsent,omitempty"`
	// Seconds runs from the start of the measured window to the last
	// measured answer.
	Seconds float64 `json:"seconds"`
	// RequestsPerSec is OK/Seconds: successful requests per second.
	RequestsPerSec float64 `json:"requests_per_sec"`
	// RowsPerSec is RequestsPerSec times RowsPerRequest.
	RowsPerSec float64 `json:"rows_per_sec"`
	// Latency summarises the successful requests only, so that fast
	// failures cannot flatter it. In an open-loop run it counts from the
	// time each request was due, not from the time it was sent.
	Latency Latency `json:"latency"`
	// SendDelay, in an open-loop run, summarises how late each measured
	// request was sent after it fell due: the generator's own timer
	// precision (about 100 µs) plus any wait for a free connection. It is
	// part of Latency, shown apart so that it can be told from the
	// server's.
	SendDelay *Latency `json:"send_delay,omitempty"`
}

// Run drives load at cfg.URL until the measured window is over (or
// MaxRequests have been sent), waits for the answers in flight and returns
// what it measured. Each answer's status is checked: 200 is a success,
// anything else an error counted by status.
//
// Run opens cfg.Connections connections and closes them before returning.
// If ctx is done early, Run stops sending and returns what it measured so
// far together with ctx.Err().
func Run(ctx context.Context, cfg Config) (*Result, error) {
	g, err := newGenerator(cfg)
	if err != nil {
		return nil, err
	}
	defer g.client.CloseIdleConnections()
	g.start = time.Now()
	g.mstart = g.start.Add(g.cfg.Warmup)
	g.end = g.mstart.Add(g.cfg.Duration)

	tallies := make([]*tally, g.cfg.Connections)
	for i := range tallies {
		tallies[i] = &tally{status: make(map[int]int64, 4), seq: uint64(i)}
		if g.cfg.Rate > 0 {
			if tallies[i].sleeper, err = newSleeper(); err != nil {
				closeSleepers(tallies)
				return nil, err
			}
		}
	}
	defer closeSleepers(tallies)
	var wg sync.WaitGroup
	for _, t := range tallies {
		wg.Go(func() { g.work(ctx, t) })
	}
	wg.Wait()
	return g.result(tallies), ctx.Err()
}

// generator is the state the workers of one run share.
type generator struct {
	cfg    Config
	method string
	client *fasthttp.HostClient
	// start is when the run (its warm-up) began, mstart when the measured
	// window opens and end when it closes.
	start, mstart, end time.Time
	// interval is the open-loop gap between due times, in nanoseconds.
	interval float64
	// next is the index of the next open-loop slot to claim.
	next atomic.Int64
	// claimed counts measured requests, against MaxRequests.
	claimed atomic.Int64
}

func newGenerator(cfg Config) (*generator, error) {
	switch {
	case cfg.Duration <= 0:
		return nil, fmt.Errorf("bench: duration must be positive, got %v", cfg.Duration)
	case cfg.Warmup < 0 || cfg.Connections < 0 || cfg.Rate < 0 || cfg.MaxRequests < 0 || cfg.RowsPerRequest < 0 || cfg.Timeout < 0:
		return nil, fmt.Errorf("bench: negative warm-up, connections, rate, requests, rows or timeout in %+v", cfg)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("bench: url: %w", err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("bench: url %q: want http://host[:port]/path", cfg.URL)
	}
	cfg.Connections = max(cfg.Connections, 1)
	cfg.RowsPerRequest = max(cfg.RowsPerRequest, 1)
	if cfg.ContentType == "" {
		cfg.ContentType = "application/json"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	g := &generator{cfg: cfg, method: cfg.Method}
	if g.method == "" {
		g.method = fasthttp.MethodGet
		if cfg.Body != nil || cfg.Vary != nil {
			g.method = fasthttp.MethodPost
		}
	}
	if cfg.Rate > 0 {
		g.interval = float64(time.Second) / cfg.Rate
	}
	g.client = &fasthttp.HostClient{
		Addr:                      fasthttp.AddMissingPort(u.Host, false),
		Name:                      "switchyard-bench",
		MaxConns:                  cfg.Connections,
		MaxConnWaitTimeout:        cfg.Timeout,
		MaxIdemponentCallAttempts: 1, // count every failure; never retry
		ReadTimeout:               cfg.Timeout,
		WriteTimeout:              cfg.Timeout,
		MaxResponseBodySize:       64 << 20,
	}
	return g, nil
}

// tally is one worker's record of a run. Only its worker touches it until
// the workers have finished.
type tally struct {
	lat       []time.Duration
	lag       []time.Duration
	requests  int64
	ok        int64
	status    map[int]int64
	transport int64
	firstErr  error
	unsent    int64
	// last is when the worker's last measured request ended.
	last time.Time
	// sleeper waits for due times in an open-loop run.
	sleeper *sleeper
	// seq is the number of the worker's next request and body the buffer
	// its bodies are made in, when Config.Vary makes them.
	seq  uint64
	body []byte
}

func closeSleepers(tallies []*tally) {
	for _, t := range tallies {
		if t != nil && t.sleeper != nil {
			t.sleeper.close()
		}
	}
}

// record counts one measured request, due (or sent) at from and finished
// at done.
func (t *tally) record(from, done time.Time, status int, err error) {
	t.requests++
	if done.After(t.last) {
		t.last = done
	}
	if err != nil {
		t.transport++
		if t.firstErr == nil {
			t.firstErr = err
		}
		return
	}
	t.status[status]++
	if status == fasthttp.StatusOK {
		t.ok++
		t.lat = append(t.lat, done.Sub(from))
	}
}

// work runs one worker: one connection, one request at a time.
func (g *generator) work(ctx context.Context, t *tally) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(g.cfg.URL)
	req.Header.SetMethod(g.method)
	if g.cfg.Body != nil || g.cfg.Vary != nil {
		req.Header.SetContentType(g.cfg.ContentType)
	}
	if g.cfg.Body != nil && g.cfg.Vary == nil {
		req.SetBodyRaw(g.cfg.Body) // read-only for the whole run
	}
	for name, value := range g.cfg.Header {
		req.Header.Set(name, value)
	}
	t.lat = make([]time.Duration, 0, 1024)
	if g.cfg.Rate > 0 {
		g.openLoop(ctx, t, req, resp)
	} else {
		g.closedLoop(ctx, t, req, resp)
	}
}

// vary makes req's body the next of t's worker, if Config.Vary makes
// them. The body lives in t.body until the next call, after Do has
// returned, so fasthttp never sees it change while it sends it.
func (g *generator) vary(t *tally, req *fasthttp.Request) {
	if g.cfg.Vary == nil {
		return
	}
	t.body = g.cfg.Vary(t.body[:0], t.seq)
	t.seq += uint64(g.cfg.Connections)
	req.SetBodyRaw(t.body)
}

// claim reserves one measured request under MaxRequests and reports
// whether there was room.
func (g *generator) claim() bool {
	return g.cfg.MaxRequests == 0 || g.claimed.Add(1) <= g.cfg.MaxRequests
}

func (g *generator) closedLoop(ctx context.Context, t *tally, req *fasthttp.Request, resp *fasthttp.Response) {
	for ctx.Err() == nil {
		sent := time.Now()
		if !sent.Before(g.end) {
			return
		}
		measured := !sent.Before(g.mstart)
		if measured && !g.claim() {
			return
		}
		g.vary(t, req)
		err := g.client.Do(req, resp)
		if measured {
			t.record(sent, time.Now(), resp.StatusCode(), err)
		}
	}
}

func (g *generator) openLoop(ctx context.Context, t *tally, req *fasthttp.Request, resp *fasthttp.Response) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for ctx.Err() == nil {
		i := g.next.Add(1) - 1
		// Each due time is computed from the start, not by adding
		// intervals, so rounding never accumulates.
		due := g.start.Add(time.Duration(float64(i) * g.interval))
		if !due.Before(g.end) {
			return
		}
		measured := !due.Before(g.mstart)
		if measured && !g.claim() {
			return
		}
		if !waitUntil(ctx, timer, t.sleeper, due) {
			return
		}
		sent := time.Now()
		if !sent.Before(g.end) && sent.Sub(due) > time.Millisecond {
			// Due inside the window, but the window is over and the
			// request is more than a millisecond late: the connections
			// could not keep up, so it is never sent. (One due just
			// before the end that the timer woke a little late for is
			// still sent.)
			if measured {
				t.unsent++
			}
			continue
		}
		g.vary(t, req)
		err := g.client.Do(req, resp)
		if measured {
			t.lag = append(t.lag, sent.Sub(due))
			t.record(due, time.Now(), resp.StatusCode(), err)
		}
	}
}

// waitUntil returns at due or, returning false, when ctx is done first. It
// sleeps on timer until about a millisecond before due, then on the more
// precise but uninterruptible sleeper (or on timer if that fails).
func waitUntil(ctx context.Context, timer *time.Timer, s *sleeper, due time.Time) bool {
	for {
		wait := time.Until(due)
		switch {
		case wait <= 0:
			return true
		case wait <= 2*time.Millisecond:
			if s.sleep(wait) == nil {
				return true
			}
			timer.Reset(wait)
		default:
			timer.Reset(wait - time.Millisecond)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return false
		case <-timer.C:
		}
	}
}

// result merges the workers' tallies.
func (g *generator) result(tallies []*tally) *Result {
	r := &Result{
		URL:            g.cfg.URL,
		Mode:           "closed",
		Connections:    g.cfg.Connections,
		Rate:           g.cfg.Rate,
		RowsPerRequest: g.cfg.RowsPerRequest,
		Status:         make(map[int]int64),
	}
	if g.cfg.Rate > 0 {
		r.Mode = "open"
	}
	var lat, lag []time.Duration
	last := g.mstart
	for _, t := range tallies {
		lat = append(lat, t.lat...)
		lag = append(lag, t.lag...)
		r.Requests += t.requests
		r.OK += t.ok
		r.TransportErrors += t.transport
		r.Unsent += t.unsent
		for s, c := range t.status {
			r.Status[s] += c
		}
		if t.firstErr != nil && r.FirstError == "" {
			r.FirstError = t.firstErr.Error()
		}
		if t.last.After(last) {
			last = t.last
		}
	}
	r.Errors = r.Requests - r.OK
	r.Latency = summarize(lat)
	if g.cfg.Rate > 0 {
		d := summarize(lag)
		r.SendDelay = &d
	}
	r.Seconds = last.Sub(g.mstart).Seconds()
	if r.Seconds > 0 {
		r.RequestsPerSec = float64(r.OK) / r.Seconds
		r.RowsPerSec = r.RequestsPerSec * float64(r.RowsPerRequest)
	}
	return r
}
