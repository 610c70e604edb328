package bench

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// testServer is a fasthttp server on a loopback port that counts what it
// receives.
type testServer struct {
	url string
	// requests counts every request; bad those that were not the POST of
	// body that the load generator should send; unavailable those
	// answered 503; binary those that carried BinaryHeader: 7.
	requests, bad, unavailable, binary atomic.Int64
}

// startServer serves on 127.0.0.1 until the test ends. Every third request
// gets 503 when flaky is set; the others get 200.
func startServer(t *testing.T, body []byte, flaky bool) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{url: "http://" + ln.Addr().String() + "/v2/models/m/infer"}
	srv := &fasthttp.Server{Handler: func(rc *fasthttp.RequestCtx) {
		n := ts.requests.Add(1)
		if !rc.IsPost() || !bytes.Equal(rc.PostBody(), body) || string(rc.Request.Header.ContentType()) != "application/json" ||
			string(rc.Path()) != "/v2/models/m/infer" {
			ts.bad.Add(1)
		}
		if string(rc.Request.Header.Peek(BinaryHeader)) == "7" {
			ts.binary.Add(1)
		}
		if flaky && n%3 == 0 {
			ts.unavailable.Add(1)
			rc.SetStatusCode(fasthttp.StatusServiceUnavailable)
			return
		}
		rc.SetBodyString(`{"ok":true}`)
	}}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ts
}

func TestRunClosedLoop(t *testing.T) {
	body := InferBody("input", 1, 4, 1)
	ts := startServer(t, body, false)
	r, err := Run(context.Background(), Config{URL: ts.url, Body: body, Connections: 4, Duration: 300 * time.Millisecond, RowsPerRequest: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.Requests != ts.requests.Load() || r.OK != r.Requests || r.Status[200] != r.Requests || r.Errors != 0 {
		t.Fatalf("Run = %d requests, %d ok, status %v, %d errors; the server saw %d", r.Requests, r.OK, r.Status, r.Errors, ts.requests.Load())
	}
	if ts.bad.Load() != 0 {
		t.Fatalf("the server got %d requests that were not the configured POST", ts.bad.Load())
	}
	if r.Mode != "closed" || r.Latency.Count != int(r.OK) || r.Latency.P50 <= 0 || r.Latency.Max < r.Latency.P999 || r.SendDelay != nil {
		t.Fatalf("Run = mode %s, latency %+v, send delay %v", r.Mode, r.Latency, r.SendDelay)
	}
	if r.Seconds < 0.3 || r.RequestsPerSec <= 0 || r.RowsPerSec != 3*r.RequestsPerSec {
		t.Fatalf("Run = %v s, %v req/s, %v rows/s; want >= 0.3 s and 3 rows per request", r.Seconds, r.RequestsPerSec, r.RowsPerSec)
	}
}

func TestRunSendsHeaders(t *testing.T) {
	body := InferBody("input", 1, 4, 1)
	ts := startServer(t, body, false)
	r, err := Run(context.Background(), Config{URL: ts.url, Body: body, Connections: 2, Duration: 100 * time.Millisecond,
		Header: map[string]string{BinaryHeader: "7"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK == 0 || ts.binary.Load() != ts.requests.Load() || ts.bad.Load() != 0 {
		t.Fatalf("%d requests ok; the server saw %d, %d with the header, %d not the configured POST",
			r.OK, ts.requests.Load(), ts.binary.Load(), ts.bad.Load())
	}
}

func TestRunWarmupNotCounted(t *testing.T) {
	ts := startServer(t, nil, false)
	r, err := Run(context.Background(), Config{URL: ts.url, Method: "POST", Body: []byte{}, ContentType: "application/json",
		Connections: 2, Warmup: 200 * time.Millisecond, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || ts.requests.Load() <= r.Requests {
		t.Fatalf("Run counted %d requests; the server saw %d, which should include the warm-up's", r.Requests, ts.requests.Load())
	}
}

func TestRunMaxRequests(t *testing.T) {
	body := []byte(`{}`)
	ts := startServer(t, body, false)
	start := time.Now()
	r, err := Run(context.Background(), Config{URL: ts.url, Body: body, Connections: 3, Duration: time.Minute, MaxRequests: 50})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 50 || ts.requests.Load() != 50 || r.OK != 50 {
		t.Fatalf("Run = %d requests (%d ok), server saw %d; want 50", r.Requests, r.OK, ts.requests.Load())
	}
	if time.Since(start) > 30*time.Second {
		t.Fatalf("Run with MaxRequests took %v", time.Since(start))
	}
}

func TestRunCountsStatusErrors(t *testing.T) {
	body := []byte(`{}`)
	ts := startServer(t, body, true)
	r, err := Run(context.Background(), Config{URL: ts.url, Body: body, Connections: 4, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n, bad := ts.requests.Load(), ts.unavailable.Load()
	if r.Requests != n || r.Status[503] != bad || r.Status[200] != n-bad || r.OK != n-bad || r.Errors != bad || bad == 0 {
		t.Fatalf("Run = %d requests, status %v, %d ok, %d errors; the server saw %d and answered %d with 503", r.Requests, r.Status, r.OK, r.Errors, n, bad)
	}
	if r.Latency.Count != int(r.OK) {
		t.Fatalf("latency counts %d samples; want only the %d successes", r.Latency.Count, r.OK)
	}
	if want := float64(r.OK) / r.Seconds; r.RequestsPerSec != want {
		t.Fatalf("RequestsPerSec = %v; want successes per second %v", r.RequestsPerSec, want)
	}
}

func TestRunCountsTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	r, err := Run(context.Background(), Config{URL: "http://" + addr + "/", Connections: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.TransportErrors != r.Requests || r.Errors != r.Requests || r.OK != 0 || r.FirstError == "" || len(r.Status) != 0 {
		t.Fatalf("Run against a closed port = %+v; want only transport errors", r)
	}
	if r.Latency != (Latency{}) || r.RequestsPerSec != 0 {
		t.Fatalf("Run against a closed port = latency %+v, %v req/s; want none", r.Latency, r.RequestsPerSec)
	}
}

// TestRunOpenLoop checks the schedule: at 200 req/s for 0.5 s exactly 100
// requests fall due in the window, and each is either sent or reported
// unsent; the warm-up's 50 are sent but not counted.
func TestRunOpenLoop(t *testing.T) {
	body := []byte(`{}`)
	ts := startServer(t, body, false)
	r, err := Run(context.Background(), Config{URL: ts.url, Body: body, Connections: 4, Rate: 200,
		Warmup: 250 * time.Millisecond, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != "open" || r.Requests+r.Unsent != 100 || r.Requests < 90 {
		t.Fatalf("Run = mode %s, %d requests, %d unsent; want 100 due, nearly all sent", r.Mode, r.Requests, r.Unsent)
	}
	if n := ts.requests.Load(); n != 150-r.Unsent {
		t.Fatalf("the server saw %d requests; want 50 of warm-up and the %d measured", n, r.Requests)
	}
	if r.SendDelay == nil || r.SendDelay.Count != int(r.Requests) || r.Latency.P50 < r.SendDelay.P50 {
		t.Fatalf("Run = latency %+v, send delay %+v; want a send delay per request, part of the latency", r.Latency, r.SendDelay)
	}
	if r.RequestsPerSec < 150 || r.RequestsPerSec > 205 {
		t.Fatalf("Run = %.1f req/s; want about 200", r.RequestsPerSec)
	}
}

func TestRunCancel(t *testing.T) {
	ts := startServer(t, nil, false)
	for _, rate := range []float64{0, 0.5} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		r, err := Run(ctx, Config{URL: ts.url, Connections: 2, Rate: rate, Duration: time.Minute})
		if !errors.Is(err, context.DeadlineExceeded) || r == nil {
			t.Fatalf("Run(rate %v) with a cancelled context = %v, %v; want a result and the context's error", rate, r, err)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("Run(rate %v) took %v to notice the context", rate, time.Since(start))
		}
	}
}

func TestRunConfigFailure(t *testing.T) {
	f := func(cfg Config) {
		t.Helper()
		if r, err := Run(context.Background(), cfg); err == nil {
			t.Errorf("Run(%+v) = %+v; want an error", cfg, r)
		}
	}
	ok := Config{URL: "http://127.0.0.1:1/", Duration: time.Millisecond}
	f(Config{URL: "http://127.0.0.1:1/"})
	for _, u := range []string{"", "127.0.0.1:8080/x", "https://127.0.0.1/", "ftp://127.0.0.1/", "http://", "http://[::1"} {
		c := ok
		c.URL = u
		f(c)
	}
	c := ok
	c.Connections = -1
	f(c)
	c = ok
	c.Rate = -1
	f(c)
	c = ok
	c.Warmup = -time.Second
	f(c)
}

// TestRunVary checks that with Config.Vary every request, warm-up
// included, carries a body of its own, numbered uniquely, in a closed
// and an open loop.
func TestRunVary(t *testing.T) {
	f := func(rate float64) {
		t.Helper()
		var mu sync.Mutex
		seen := map[string]int{}
		bad := 0
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &fasthttp.Server{Handler: func(rc *fasthttp.RequestCtx) {
			mu.Lock()
			defer mu.Unlock()
			seen[string(rc.PostBody())]++
			if !rc.IsPost() || string(rc.Request.Header.ContentType()) != "application/json" ||
				!bytes.HasPrefix(rc.PostBody(), []byte(`{"n":`)) {
				bad++
			}
		}}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		defer func() {
			if err := srv.Shutdown(); err != nil {
				t.Errorf("shutdown: %v", err)
			}
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}()
		vary := func(dst []byte, n uint64) []byte {
			dst = append(dst, `{"n":`...)
			dst = strconv.AppendUint(dst, n, 10)
			return append(dst, '}')
		}
		r, err := Run(t.Context(), Config{URL: "http://" + ln.Addr().String() + "/", Vary: vary, Connections: 3, Rate: rate,
			Warmup: 50 * time.Millisecond, Duration: 150 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		total := 0
		for body, count := range seen {
			total += count
			if count != 1 {
				t.Errorf("rate %v: body %s sent %d times; want once", rate, body, count)
			}
		}
		if r.OK == 0 || int64(total) <= r.Requests || bad != 0 {
			t.Errorf("rate %v: %d requests measured, %d ok; the server saw %d, %d not a POST of a numbered body",
				rate, r.Requests, r.OK, total, bad)
		}
	}
	f(0)
	f(2000)
}
