package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// How long a child process may take to print its address, to become ready
// and to exit after SIGTERM.
const (
	childListenTimeout = 30 * time.Second
	childReadyTimeout  = 60 * time.Second
	childStopTimeout   = 15 * time.Second
)

// child is a process of the switchyard binary that Compare started: the
// floor or a server. Its owner must call stop.
type child struct {
	name   string
	cmd    *exec.Cmd
	addr   string
	stderr *tailBuffer
	// done is closed once the process has exited; err then holds Wait's
	// result.
	done chan struct{}
	err  error
}

// startChild runs bin with args, waits until it prints a line starting
// with prefix followed by its address, then until GET /v2/health/ready on
// that address answers 200. The child inherits this process's environment
// (SWITCHYARD_ORT_LIB among it) but not its tokens: a bench's servers
// listen on loopback with every endpoint open. Its stderr goes to errOut, if not nil,
// and its last few kilobytes into errors about it.
func startChild(ctx context.Context, name, bin string, args []string, prefix string, errOut io.Writer) (*child, error) {
	c := &child{name: name, stderr: &tailBuffer{max: 4 << 10}, done: make(chan struct{})}
	found := make(chan string, 1)
	c.cmd = exec.Command(bin, args...)
	c.cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "SWITCHYARD_TOKENS=") || strings.HasPrefix(kv, "SWITCHYARD_ADMIN_TOKEN=")
	})
	c.cmd.Stdout = &addrWriter{prefix: prefix, found: found}
	c.cmd.Stderr = c.stderr
	if errOut != nil {
		c.cmd.Stderr = io.MultiWriter(c.stderr, errOut)
	}
	c.cmd.SysProcAttr = childAttr()
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start %s: %w", name, err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	timer := time.NewTimer(childListenTimeout)
	defer timer.Stop()
	select {
	case c.addr = <-found:
	case <-c.done:
		return nil, c.failure("exited before listening")
	case <-timer.C:
		return nil, errors.Join(c.failure(fmt.Sprintf("printed no %q line in %v", prefix, childListenTimeout)), c.stop())
	case <-ctx.Done():
		return nil, errors.Join(ctx.Err(), c.stop())
	}
	if err := c.waitReady(ctx); err != nil {
		return nil, errors.Join(err, c.stop())
	}
	return c, nil
}

// waitReady polls GET /v2/health/ready until it answers 200.
func (c *child) waitReady(ctx context.Context) error {
	hc := &fasthttp.HostClient{Addr: c.addr, MaxIdemponentCallAttempts: 1}
	defer hc.CloseIdleConnections()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + c.addr + "/v2/health/ready")
	deadline := time.Now().Add(childReadyTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := hc.DoTimeout(req, resp, time.Second)
		if err == nil && resp.StatusCode() == fasthttp.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return c.failure(fmt.Sprintf("not ready after %v (last answer %d, %v)", childReadyTimeout, resp.StatusCode(), err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return c.failure("exited before it was ready")
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM, waits for the process to exit (killing it if it
// takes longer than childStopTimeout) and reports an unclean exit.
func (c *child) stop() error {
	select {
	case <-c.done:
		if c.err != nil {
			return c.failure("exited early")
		}
		return nil
	default:
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("bench: stop %s: %w", c.name, err)
	}
	timer := time.NewTimer(childStopTimeout)
	defer timer.Stop()
	select {
	case <-c.done:
	case <-timer.C:
		c.cmd.Process.Kill()
		<-c.done
		return c.failure(fmt.Sprintf("did not stop within %v of SIGTERM; killed", childStopTimeout))
	}
	if c.err != nil {
		return c.failure("stopped uncleanly")
	}
	return nil
}

// failure describes what went wrong with the child, with the end of its
// stderr.
func (c *child) failure(what string) error {
	msg := fmt.Sprintf("bench: %s (%s) %s", c.name, strings.Join(c.cmd.Args, " "), what)
	select {
	case <-c.done:
		if c.err != nil {
			msg += ": " + c.err.Error()
		}
	default:
	}
	if tail := strings.TrimSpace(c.stderr.String()); tail != "" {
		msg += "; its stderr ends:\n" + tail
	}
	return errors.New(msg)
}

// addrWriter receives a child's stdout and sends the rest of the first
// line that starts with prefix to found. exec calls Write from one
// goroutine.
type addrWriter struct {
	prefix string
	found  chan<- string
	line   []byte
	sent   bool
}

// Write implements io.Writer.
func (w *addrWriter) Write(p []byte) (int, error) {
	if w.sent {
		return len(p), nil
	}
	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(w.line[:i]))
		w.line = w.line[i+1:]
		if addr, ok := strings.CutPrefix(line, w.prefix); ok {
			w.found <- addr
			w.sent, w.line = true, nil
			break
		}
	}
	if len(w.line) > 64<<10 { // no newline in sight: not the line we want
		w.line = w.line[:0]
	}
	return len(p), nil
}

// tailBuffer keeps the last max bytes written to it. Safe for concurrent
// use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// Write implements io.Writer.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns what the buffer holds.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
