package bench

import (
	"strings"
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	f := func(d time.Duration, want string) {
		t.Helper()
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q; want %q", d, got, want)
		}
	}
	f(0, "0")
	f(1500*time.Nanosecond, "1.50µs")
	f(85300*time.Nanosecond, "85.3µs")
	f(1270*time.Microsecond, "1.27ms")
	f(250*time.Millisecond, "250.0ms")
	f(2500*time.Millisecond, "2.50s")
}

func TestResultWriteText(t *testing.T) {
	r := &Result{URL: "http://127.0.0.1:1/x", Mode: "open", Rate: 200, Connections: 4, RowsPerRequest: 1,
		Requests: 10, OK: 7, Errors: 3, Status: map[int]int64{200: 7, 503: 2}, TransportErrors: 1, FirstError: "dial: refused",
		Unsent: 2, Seconds: 1, RequestsPerSec: 7, RowsPerSec: 7,
		Latency: Latency{Count: 7, P50: time.Millisecond}, SendDelay: &Latency{P50: 30 * time.Microsecond}}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"open loop at 200 req/s, 4 connections", "10 in 1.00 s: 7 ok, 3 errors (503: 2, transport: 1)",
		"2 due but never sent", "1.00ms", "send delay", "30.0µs", "dial: refused"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("WriteText lacks %q:\n%s", want, b.String())
		}
	}
}

func TestReportWriteText(t *testing.T) {
	rep := measured{floor: 50000, floorModel: 40000, heavyOn: 9000, heavyOff: 4000, heavyBinary: 17000, best: 18000}.report()
	rep.InProcess = []*InProcessResult{{Model: HeavyModel, Concurrency: 2,
		Batches: []BatchResult{{BatchSize: 1, RowsPerSec: 8000}, {BatchSize: 256, RowsPerSec: 18000}},
		Best:    BatchResult{BatchSize: 256, RowsPerSec: 18000}}}
	rep.Goals, rep.Ratios = judge(rep)
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"floor (bare fasthttp)", "floor + onnxruntime small", "switchyard heavy batching off",
		"switchyard heavy batch≤256", "switchyard heavy batch≤256 binary", "in-process heavy, 2 goroutines", "18000", "best",
		"n/a", "0.94", ">= 0.90", "2.25", "MISS", "PASS", "floor+onnxruntime req/s ÷ floor req/s", "0.80", "0.50"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("WriteText lacks %q:\n%s", want, b.String())
		}
	}
}
