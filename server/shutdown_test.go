package server

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
)

// TestShutdownRightAfterServe shuts servers down at once after starting
// Serve, before it may have begun to accept: Serve must return every
// time. (fasthttp's Shutdown closes only the listeners its Serve has
// registered; a server shut down in between accepted forever.)
func TestShutdownRightAfterServe(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	store, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	o, err := ops.New(ops.Config{Registry: dir, Models: store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		srv, err := New(Config{Logger: quiet, Ops: o}, store, prometheus.NewPedanticRegistry())
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatalf("run %d: Shutdown: %v", i, err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d: Serve: %v", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("run %d: Serve still accepting 5s after Shutdown returned", i)
		}
	}
}
