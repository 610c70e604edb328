package drift

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// receiver is a webhook on loopback that records the alerts it accepts;
// it fails the first fail posts with 500.
type receiver struct {
	srv    *httptest.Server
	fail   atomic.Int32
	posts  atomic.Int32
	alerts chan Alert
}

func newReceiver(t *testing.T, fail int32) *receiver {
	t.Helper()
	r := &receiver{alerts: make(chan Alert, 100)}
	r.fail.Store(fail)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.posts.Add(1)
		body, _ := io.ReadAll(req.Body)
		if r.fail.Add(-1) >= 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var a Alert
		if req.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &a) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.alerts <- a
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// next returns the next alert the receiver accepted, or fails.
func (r *receiver) next(t *testing.T) Alert {
	t.Helper()
	select {
	case a := <-r.alerts:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("no alert reached the webhook")
		return Alert{}
	}
}

// run starts m's goroutine until the test ends.
func run(t *testing.T, m *Monitor) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { m.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// send hands the monitor, through the real channel, requests of 10
// rows until it has taken rows rows.
func send(t *testing.T, m *Monitor, src Source, rng *rand.Rand, rows int, shift float64) {
	t.Helper()
	for i := 0; i < rows; {
		if offer(m, src, "id", rng, 10, shift) == nil {
			time.Sleep(time.Millisecond) // the monitor is behind: try again
			continue
		}
		i += 10
	}
}

func TestWebhookGetsOneAlertPerChange(t *testing.T) {
	hook := newReceiver(t, 0)
	audit := &auditLog{}
	m, _, _ := newTestMonitor(t, Config{Webhook: hook.srv.URL, Auditor: audit, Tick: 5 * time.Millisecond, now: time.Now})
	p := testPolicy()
	p.Interval = 5 * time.Millisecond
	src := newSource(writeProfile(t), p)
	rng := rand.New(rand.NewPCG(13, 14))
	run(t, m)

	send(t, m, src, rng, 200, 1.5)
	if a := hook.next(t); a.Feature != "a" || !a.Drifted || a.Result == nil || a.Model != "m" || a.Version != 1 {
		t.Fatalf("first alert = %+v; want feature a drifted", a)
	}
	send(t, m, src, rng, 200, 1.5) // still drifted: no alert
	send(t, m, src, rng, 200, 0)
	if a := hook.next(t); a.Feature != "a" || a.Drifted {
		t.Fatalf("second alert = %+v; want feature a back to no drift", a)
	}
	send(t, m, src, rng, 400, 0)
	time.Sleep(50 * time.Millisecond) // time for any stray alert to arrive
	select {
	case a := <-hook.alerts:
		t.Errorf("unexpected alert %+v", a)
	default:
	}
	if n := hook.posts.Load(); n != 2 {
		t.Errorf("webhook posts = %d; want 2", n)
	}
	if n := len(audit.all()); n != 2 {
		t.Errorf("audit entries = %d; want 2", n)
	}
}

func TestWebhookRetriesWithBackoff(t *testing.T) {
	hook := newReceiver(t, 2)
	m, _, _ := newTestMonitor(t, Config{Webhook: hook.srv.URL, WebhookBackoff: time.Millisecond})
	run(t, m)
	m.raise(Alert{Model: "m", Version: 1, Drifted: true, Share: 0.6, DatasetShare: 0.5})
	if a := hook.next(t); a.Feature != "" || !a.Drifted || a.Share != 0.6 {
		t.Errorf("alert = %+v; want the dataset's", a)
	}
	if n := hook.posts.Load(); n != 3 {
		t.Errorf("posts = %d; want 3 (two failures, then the delivery)", n)
	}
}

func TestWebhookGivesUpAndCounts(t *testing.T) {
	hook := newReceiver(t, 100)
	m, _, _ := newTestMonitor(t, Config{Webhook: hook.srv.URL, WebhookBackoff: time.Millisecond, WebhookRetries: 2})
	run(t, m)
	m.raise(Alert{Model: "m", Version: 1, Feature: "a", Drifted: true, Result: &Result{Column: "a"}})
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(m.metrics.webhookFailed) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("webhook failures = %v; want 1", testutil.ToFloat64(m.metrics.webhookFailed))
		}
		time.Sleep(time.Millisecond)
	}
	if n := hook.posts.Load(); n != 3 {
		t.Errorf("posts = %d; want 3 (a try and two retries)", n)
	}
}

func TestWebhookQueueFullDrops(t *testing.T) {
	hook := newReceiver(t, 0)
	m, _, _ := newTestMonitor(t, Config{Webhook: hook.srv.URL, WebhookQueue: 2}) // not running: nothing delivers
	done := make(chan struct{})
	go func() {
		for range 5 {
			m.raise(Alert{Model: "m", Version: 1, Feature: "a"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("raise blocked on a full webhook queue")
	}
	if got := testutil.ToFloat64(m.metrics.webhookDropped); got != 3 {
		t.Errorf("switchyard_drift_webhook_dropped_total = %v; want 3", got)
	}
}
