package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
)

// TestRestartDropsNothing restarts a replica under keep-alive load as a
// rolling deploy does (issue 23, defect 6): 32 clients, each on its own
// keep-alive connection, send inference requests through a "load
// balancer" that polls the replica's readiness every 20 ms and sends
// traffic to a second replica once the first is not ready. The first
// replica gets SIGTERM (its context is cancelled) mid-load; over 10 runs
// not one request may fail. serve's drain delay is 1 s here, far above
// the balancer's poll, as 5 s (the default) is above a Kubernetes
// readiness probe's.
func TestRestartDropsNothing(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry")
	testenv.Publish(t, reg, "m", onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model())
	other := serve(t, "--registry", reg, "--no-tracking")
	const body = `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}`
	for run := range 10 {
		addr, stop := startServe(t, "--registry", reg, "--no-tracking", "--drain-delay", "1s")
		var target atomic.Pointer[string]
		target.Store(&addr)
		var sent, failed, toFirst atomic.Int64
		var firstFailure atomic.Pointer[string]
		fail := func(msg string) {
			failed.Add(1)
			firstFailure.CompareAndSwap(nil, &msg)
		}
		done := make(chan struct{})
		var clients sync.WaitGroup
		// The balancer's health check.
		clients.Go(func() {
			probe := &http.Client{Timeout: time.Second}
			for {
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
				resp, err := probe.Get("http://" + addr + "/v2/health/ready")
				if err == nil {
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					target.Store(&other)
					return
				}
			}
		})
		for range 32 {
			clients.Go(func() {
				c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
				defer c.CloseIdleConnections()
				for {
					select {
					case <-done:
						return
					default:
					}
					to := *target.Load()
					resp, err := c.Post("http://"+to+"/v2/models/m/infer", "application/json", strings.NewReader(body))
					sent.Add(1)
					if err != nil {
						fail(err.Error())
						continue
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						fail(fmt.Sprintf("%s: %d %s", to, resp.StatusCode, b))
					} else if to == addr {
						toFirst.Add(1)
					}
				}
			})
		}
		time.Sleep(300 * time.Millisecond)
		if err := stop(); err != nil { // SIGTERM, and wait for serve to return
			t.Errorf("run %d: serve: %v", run, err)
		}
		time.Sleep(100 * time.Millisecond)
		close(done)
		clients.Wait()
		if n := failed.Load(); n > 0 {
			t.Fatalf("run %d: %d of %d requests failed across the restart; the first: %s", run, n, sent.Load(), *firstFailure.Load())
		}
		if toFirst.Load() == 0 || sent.Load() == toFirst.Load() {
			t.Fatalf("run %d: %d of %d requests reached the restarted replica; want some, not all", run, toFirst.Load(), sent.Load())
		}
	}
}
