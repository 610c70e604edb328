// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb
// and postgres from Debian's packages (/usr/lib/postgresql/*/bin) in a
// temporary directory, on a free loopback port, as the postgres user when
// the test runs as root. One cluster serves a whole test binary (start it
// in TestMain); each test takes a fresh database of its own from it. The
// server is the test process's child and is killed with it, so a test
// binary killed mid-run (a timeout, SIGKILL) leaves no server behind.
//
// Where PostgreSQL is not installed the tests that need it skip, saying
// why; with CI=true they fail instead.
package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// superuser is the cluster's only role, trusted on loopback.
const superuser = "switchyard"

// Cluster is a running throwaway PostgreSQL cluster.
//
// Its methods are called from the test's goroutine (or TestMain); DSN is
// safe for concurrent use by parallel tests.
type Cluster struct {
	bin    string // directory of initdb, postgres, createdb
	dir    string // temporary directory holding data/, the socket and the log
	port   int
	cred   *syscall.Credential // non-nil: run the cluster's programs as this user
	server *exec.Cmd           // the running postmaster
	exited chan error          // receives the postmaster's exit, then closes
	dbs    atomic.Int64
	err    error // why there is no cluster; set when Start failed
}

// Start initialises and starts a cluster. It never returns nil: when
// PostgreSQL cannot be started, the returned Cluster remembers why, and
// its DSN skips (or, with CI=true, fails) the tests that ask for one.
// Stop it at the end of TestMain.
func Start() *Cluster {
	c := &Cluster{}
	c.err = c.start()
	return c
}

func (c *Cluster) start() error {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		return fmt.Errorf("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; make postgres installs it)")
	}
	slices.SortFunc(bins, func(a, b string) int { return version(b) - version(a) }) // newest first
	c.bin = filepath.Dir(bins[0])
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	c.dir = dir
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: hand the directory to postgres.
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("pgtest: running as root and there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("pgtest: free port: %w", err)
	}
	c.port = port
	if err := c.run("initdb", "-D", c.data(), "-U", superuser, "--auth=trust", "-E", "UTF8", "--locale=C"); err != nil {
		return err
	}
	return c.serverStart()
}

// New starts a cluster for one test, stopped and removed when it ends.
// Where PostgreSQL cannot be started it skips the test saying why, or
// fails it with CI=true.
func New(t testing.TB) *Cluster {
	t.Helper()
	c := Start()
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	c.need(t)
	return c
}

// need skips t (fails it with CI=true) when c has no server.
func (c *Cluster) need(t testing.TB) {
	t.Helper()
	if c.err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL is required on CI: %v", c.err)
	}
	t.Skipf("no PostgreSQL to test against: %v", c.err)
}

// version is the major version in a path /usr/lib/postgresql/N/bin/initdb.
func version(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// serverStart starts the postmaster as this process's child, killed if
// this process dies first (Pdeathsig), and waits until it accepts
// connections.
func (c *Cluster) serverStart() error {
	logf, err := os.OpenFile(filepath.Join(c.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(c.bin, "postgres"), "-D", c.data(), "-p", strconv.Itoa(c.port),
		"-k", c.dir, "-c", "listen_addresses=127.0.0.1")
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: postgres: %w", err)
	}
	exited := make(chan error, 1)
	c.server, c.exited = cmd, exited
	go func() { // ends when the postmaster does
		exited <- cmd.Wait()
		close(exited)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ready := c.run("pg_isready", "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(c.port))
		if ready == nil {
			return nil
		}
		select {
		case err := <-c.exited:
			log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
			return fmt.Errorf("pgtest: postgres exited: %v\n%s", err, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.serverStop(syscall.SIGQUIT)
			return fmt.Errorf("pgtest: postgres did not accept connections in 30s: %w", ready)
		}
	}
}

// serverStop sends the postmaster sig (SIGINT: fast shutdown, SIGQUIT:
// immediate) and waits for it to exit.
func (c *Cluster) serverStop(sig syscall.Signal) error {
	if err := c.server.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pgtest: stop postgres: %w", err)
	}
	<-c.exited
	return nil
}

// Restart stops the server (fast shutdown) and starts it again on the same
// port and data: what an acknowledged write must survive.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	if err := c.serverStop(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := c.serverStart(); err != nil {
		t.Fatal(err)
	}
}

// DSN creates a fresh, empty database for the test and returns its
// postgres:// URL. Without a cluster it skips the test saying why, or
// fails it with CI=true.
func (c *Cluster) DSN(t testing.TB) string {
	t.Helper()
	c.need(t)
	name := fmt.Sprintf("t%d", c.dbs.Add(1))
	if err := c.run("createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(c.port), "-U", superuser, name); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, c.port, name)
}

// Stop stops the server and removes its directory. It is safe on a
// Cluster whose Start failed.
func (c *Cluster) Stop() error {
	var err error
	if c.server != nil {
		err = c.serverStop(syscall.SIGQUIT)
	}
	if c.dir != "" {
		if rerr := os.RemoveAll(c.dir); err == nil {
			err = rerr
		}
	}
	return err
}

// run runs one of the cluster's programs to its end, as c.cred when set.
func (c *Cluster) run(prog string, args ...string) error {
	cmd := exec.Command(filepath.Join(c.bin, prog), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgtest: %s: %w\n%s", prog, err, out.Bytes())
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
