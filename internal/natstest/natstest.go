// Package natstest starts a throwaway nats-server with JetStream for the
// tests of the prediction log and feedback on a stream: on a free
// loopback port, its store in the test's temporary directory, stopped
// when the test ends. The server is $NATS_SERVER, else nats-server on
// the PATH (`make nats` installs Debian's package); without one the test
// skips saying why, and on CI (CI=true) it fails.
package natstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Server is a running nats-server. Stop and Start may be called from
// the test's goroutine only.
type Server struct {
	t    testing.TB
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a nats-server with JetStream for t, stopped at cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv("NATS_SERVER")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("nats-server"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("nats-server is not installed (make nats installs it): %v", err)
			}
			t.Skipf("nats-server is not installed (make nats installs it as root with apt-get): %v", err)
		}
	}
	s := &Server{t: t, bin: bin, port: freePort(t), dir: t.TempDir()}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's nats:// URL.
func (s *Server) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// Restart starts the server again after Stop, on the same port with the
// same store.
func (s *Server) Restart() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatal("natstest: the server is running")
	}
	cmd := exec.Command(s.bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-sd", filepath.Join(s.dir, "store"))
	out, err := os.Create(filepath.Join(s.dir, "nats-server.log"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("natstest: start %s: %v", s.bin, err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(s.done)
	for range 500 { // until it listens, or 10 s
		if c, err := net.DialTimeout("tcp", s.addr(), 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		select {
		case <-s.done:
			s.cmd = nil
			s.t.Fatalf("natstest: nats-server exited at start:\n%s", s.Log())
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.Stop()
	s.t.Fatalf("natstest: nats-server did not listen on %s:\n%s", s.addr(), s.Log())
}

// Stop stops the server (SIGKILL) and waits for it; its store stays for
// Restart. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Log returns what the server wrote.
func (s *Server) Log() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "nats-server.log"))
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func (s *Server) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// freePort returns a loopback port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
