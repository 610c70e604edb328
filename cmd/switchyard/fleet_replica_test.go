package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fleetReplica is one `switchyard serve` child process of TestFleet, in
// a process group of its own, on a fixed loopback port (so that it
// comes back at the same address after a restart, as a load balancer's
// target does).
type fleetReplica struct {
	name    string
	addr    string
	dataDir string
	logPath string
	args    []string // serve's flags but --addr and --data-dir

	cmd     *exec.Cmd
	exited  chan struct{}
	started time.Time
}

// startReplica starts replica name of the fleet; it is killed at the
// end of the test whatever happens.
func startReplica(t *testing.T, bin, name string, args ...string) *fleetReplica {
	t.Helper()
	dir := t.TempDir()
	r := &fleetReplica{name: name, addr: "127.0.0.1:" + strconv.Itoa(freeLoopbackPort(t)),
		dataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "serve.log"), args: args}
	t.Cleanup(r.kill)
	r.start(t, bin)
	return r
}

// start starts the replica's process and waits until it is ready.
func (r *fleetReplica) start(t *testing.T, bin string) {
	t.Helper()
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", r.addr, "--data-dir", r.dataDir}, r.args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so that a kill reaches whatever it starts,
	// and killed with the test binary if that dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("replica %s: %v", r.name, err)
	}
	r.cmd, r.exited, r.started = cmd, make(chan struct{}), time.Now()
	go func(done chan struct{}) { cmd.Wait(); close(done) }(r.exited) // ends when the process does
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := client.Get("http://" + r.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-r.exited:
			t.Fatalf("replica %s exited at start:\n%s", r.name, r.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s was not ready in 90s:\n%s", r.name, r.log())
		}
	}
}

// kill sends SIGKILL to the replica's process group and waits for it to
// exit. Killing a dead replica does nothing.
func (r *fleetReplica) kill() {
	if r.cmd == nil {
		return
	}
	syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	<-r.exited
	r.cmd = nil
}

// log returns the end of what the replica wrote.
func (r *fleetReplica) log() string {
	b, err := os.ReadFile(r.logPath)
	if err != nil {
		return err.Error()
	}
	return tail(string(b), 4000)
}

// freeLoopbackPort returns a loopback port nothing listens on now.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// balancer sends each request to the fleet's replicas in turn and, as a
// load balancer does, tries the next replica when one cannot be reached:
// its connection is refused, or it broke before an answer came (the
// replica died holding the request). An answer other than 200 is a
// failure, never retried. Its methods are safe for concurrent use.
type balancer struct {
	addrs  []string
	client *http.Client
	next   atomic.Uint64

	ok, failed, refused, broken atomic.Int64

	mu        sync.Mutex
	firstFail string // guarded by mu
}

func newBalancer(addrs ...string) *balancer {
	return &balancer{addrs: addrs, client: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 8}}}
}

// post sends body to path on one replica after another until one
// answers, with the routing key key, and returns the status and the
// answering version.
func (b *balancer) post(path, key string, body []byte) (status int, version string) {
	start := b.next.Add(1)
	var last error
	for i := range uint64(len(b.addrs)) {
		addr := b.addrs[(start+i)%uint64(len(b.addrs))]
		status, version, err := postKeyed(b.client, addr, path, key, body)
		if err == nil {
			if status == http.StatusOK {
				b.ok.Add(1)
			} else {
				b.fail(fmt.Sprintf("%s answered %d", addr, status))
			}
			return status, version
		}
		last = err
		if errors.Is(err, syscall.ECONNREFUSED) {
			b.refused.Add(1)
		} else {
			b.broken.Add(1)
		}
	}
	b.fail(fmt.Sprintf("no replica answered: %v", last))
	return 0, ""
}

func (b *balancer) fail(why string) {
	b.failed.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.firstFail == "" {
		b.firstFail = why
	}
}

// postKeyed POSTs body to path on addr with the routing key key (none
// when empty) and returns the status and X-Model-Version.
func postKeyed(c *http.Client, addr, path, key string, body []byte) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-Routing-Key", key)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, "", err
	}
	return resp.StatusCode, resp.Header.Get("X-Model-Version"), nil
}

// rolloutPoll is how often a rolloutWatch asks each replica.
const rolloutPoll = 20 * time.Millisecond

// rolloutWatch polls each replica's rollout in force and records when
// each replica first served each rollout state (told apart by its
// updated_at). One goroutine polls, from newRolloutWatch to stop.
type rolloutWatch struct {
	addrs []string
	done  chan struct{}
	ended chan struct{}
	once  sync.Once

	mu    sync.Mutex
	seen  []map[time.Time]time.Time // per replica: updated_at -> first seen; guarded by mu
	order []fleetRollout            // each state, in the order first seen; guarded by mu
}

func newRolloutWatch(addrs []string) *rolloutWatch {
	w := &rolloutWatch{addrs: addrs, done: make(chan struct{}), ended: make(chan struct{})}
	for range addrs {
		w.seen = append(w.seen, map[time.Time]time.Time{})
	}
	go w.run()
	return w
}

func (w *rolloutWatch) run() {
	defer close(w.ended)
	tick := time.NewTicker(rolloutPoll)
	defer tick.Stop()
	for {
		for i, a := range w.addrs {
			s, err := rolloutOn(a)
			if err != nil {
				continue
			}
			at := time.Now()
			key := s.UpdatedAt.UTC()
			w.mu.Lock()
			if _, ok := w.seen[i][key]; !ok {
				w.seen[i][key] = at
			}
			if !slices.ContainsFunc(w.order, func(o fleetRollout) bool { return o.UpdatedAt.Equal(key) }) {
				w.order = append(w.order, s)
			}
			w.mu.Unlock()
		}
		select {
		case <-w.done:
			return
		case <-tick.C:
		}
	}
}

// stop ends the polling; it may be called more than once.
func (w *rolloutWatch) stop() {
	w.once.Do(func() { close(w.done) })
	<-w.ended
}

// states returns every state seen, in order.
func (w *rolloutWatch) states() []fleetRollout {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.order)
}

// firstSeen returns when replica i first served the state of updatedAt.
func (w *rolloutWatch) firstSeen(i int, updatedAt time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	at, ok := w.seen[i][updatedAt.UTC()]
	return at, ok
}
