package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestAddrWriter(t *testing.T) {
	found := make(chan string, 1)
	w := &addrWriter{prefix: "floor listening on ", found: found}
	for _, chunk := range []string{"starting\nfloor list", "ening on 127.0.0.1:4", "242\nfloor listening on 127.0.0.1:9\n", "more\n"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}
	if got := <-found; got != "127.0.0.1:4242" {
		t.Fatalf("addrWriter found %q; want 127.0.0.1:4242", got)
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 8}
	b.Write([]byte("0123456"))
	b.Write([]byte("789ab"))
	if got := b.String(); got != "456789ab" {
		t.Fatalf("tailBuffer = %q; want the last 8 bytes 456789ab", got)
	}
}

// TestStartChildFailure checks that a child that dies before it listens
// is reported with the end of its stderr.
func TestStartChildFailure(t *testing.T) {
	c, err := startChild(context.Background(), "broken", "/bin/sh", []string{"-c", "echo 'no such flag: -max-batch-size' >&2; exit 2"}, "listening on ", nil)
	if err == nil {
		c.stop()
		t.Fatal("startChild of a failing command succeeded")
	}
	for _, want := range []string{"broken", "exited before listening", "exit status 2", "no such flag: -max-batch-size"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("startChild error lacks %q: %v", want, err)
		}
	}
}

// TestChildStopOnCancel checks that startChild gives up on a cancelled
// context and stops the child (a shell that would otherwise sleep a
// minute). A child's whole life, ready and stopped, is tested with the
// real binary in cmd/switchyard.
func TestChildStopOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, err := startChild(ctx, "sleeper", "/bin/sh", []string{"-c", "echo 'listening on 127.0.0.1:1'; exec sleep 60"}, "listening on ", nil)
	if err == nil {
		t.Fatal("startChild with a cancelled context succeeded")
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("startChild took %v to give up", time.Since(start))
	}
}
