package stream

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestRetryLogSaysItOnce: a failure that recurs at every try is logged
// once, not once a try, until a success resets the count.
func TestRetryLogSaysItOnce(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	var r retryLog
	for range 30 {
		r.failure(log, slog.LevelWarn, "stream: cannot consume the stream yet; trying again")
	}
	if n := strings.Count(out.String(), "trying again"); n != 1 {
		t.Fatalf("30 failures in a row logged %d lines; want 1:\n%s", n, out.String())
	}
	r.ok()
	r.failure(log, slog.LevelWarn, "stream: reading the stream; trying again")
	if n := strings.Count(out.String(), "trying again"); n != 2 || !strings.Contains(out.String(), "failures=1") {
		t.Errorf("a failure after a success: %d lines; want it logged, as the first:\n%s", n, out.String())
	}
}
