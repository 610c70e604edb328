package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// buildSwitchyard builds this module's switchyard command once for all the
// tests of the run, into a directory removed when they end (TestMain).
var buildSwitchyard = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(binDir, "switchyard")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/switchyard").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// binDir holds the built command; TestMain makes and removes it.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchyard-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// switchyard returns the path of the built command, failing the test if
// it does not build.
func switchyard(t *testing.T) string {
	t.Helper()
	bin, err := buildSwitchyard()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// server is a switchyard process started by a test, on loopback.
type server struct {
	cmd    *exec.Cmd
	addr   string
	out    *syncBuffer
	exited chan struct{}
	err    error // cmd.Wait's, set before exited closes
}

// syncBuffer is a bytes.Buffer that the process's output and the test
// may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs the built command with args, the onnxruntime library
// of $SWITCHYARD_ORT_LIB, and stops it (SIGINT, then SIGKILL after 30s)
// when the test ends.
func startServer(t *testing.T, addr string, args ...string) *server {
	t.Helper()
	s := &server{cmd: exec.Command(switchyard(t), args...), addr: addr, out: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
	return s
}

// tail returns the end of the server's output, for failure messages.
func (s *server) tail() string {
	out := s.out.String()
	if len(out) > 4000 {
		out = "..." + out[len(out)-4000:]
	}
	return "\n--- the server's output:\n" + out
}

// get returns the status and body of GET path on the server.
func (s *server) get(path string) (int, []byte, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + s.addr + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// waitFor polls GET path every 200ms until it answers 200, failing the
// test if the server exits or a minute passes first.
func (s *server) waitFor(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		code, _, err := s.get(path)
		if err == nil && code == http.StatusOK {
			return
		}
		select {
		case <-s.exited:
			t.Fatalf("the server exited (%v) before GET %s answered 200%s", s.err, path, s.tail())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s did not answer 200 within a minute (last: %d, %v)%s", path, code, err, s.tail())
		}
	}
}

// localArgs rewrites a deployment file's server args to run here: its
// paths under /var/lib/switchyard go under dir, and --addr is addr.
func localArgs(args []string, dir, addr string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := strings.ReplaceAll(args[i], "/var/lib/switchyard", dir)
		switch {
		case a == "--addr" || a == "-addr":
			out = append(out, a, addr)
			i++
		case strings.HasPrefix(a, "--addr=") || strings.HasPrefix(a, "-addr="):
			out = append(out, "--addr="+addr)
		default:
			out = append(out, a)
		}
	}
	return out
}

// healthCheck runs the image's health check script against addr.
func healthCheck(addr string) ([]byte, error) {
	cmd := exec.Command("bash", "docker/healthcheck.sh")
	cmd.Env = append(os.Environ(), "SWITCHYARD_HEALTH_ADDR="+addr)
	return cmd.CombinedOutput()
}

// TestProbePaths serves the demo's registry with the Deployment's own
// args and the ConfigMap's policy, and checks that every path a probe,
// the image's health check or the ServiceMonitor names answers 200; then
// that SIGTERM turns the readiness probe's path off while the server
// drains, and that it stops within the grace period.
func TestProbePaths(t *testing.T) {
	b := readKubeBase(t)
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	if out, err := exec.Command(switchyard(t), "demo", "--registry", reg).CombinedOutput(); err != nil {
		t.Fatalf("switchyard demo: %v\n%s", err, out)
	}
	pod := b.deployment.Spec.Template.Spec
	c := pod.Containers[0]
	for _, m := range c.VolumeMounts {
		if text, ok := b.configMap.Data[m.SubPath]; ok {
			path := strings.ReplaceAll(m.MountPath, "/var/lib/switchyard", dir)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := modelstore.ReadPolicy(filepath.Join(reg, "fraud", modelstore.PolicyFile)); err != nil {
		t.Fatalf("the ConfigMap's policy is not in the registry: %v", err)
	}
	addr := freeAddr(t)
	s := startServer(t, addr, localArgs(c.Args, dir, addr)...)
	s.waitFor(t, c.StartupProbe.HTTPGet.Path)
	s.waitFor(t, c.ReadinessProbe.HTTPGet.Path)

	paths := []string{c.StartupProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path,
		"/healthz", "/readyz", "/v2/health/live", "/v2/health/ready"}
	for _, e := range b.monitor.Spec.Endpoints {
		paths = append(paths, e.Path)
	}
	for _, p := range paths {
		if code, body, err := s.get(p); err != nil || code != http.StatusOK {
			t.Errorf("GET %s = %d, %v: %.200s", p, code, err, body)
		}
	}
	if out, err := healthCheck(addr); err != nil {
		t.Errorf("the image's health check against a ready server: %v: %s", err, out)
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		code, _, err := s.get(c.ReadinessProbe.HTTPGet.Path)
		if err == nil && code == http.StatusServiceUnavailable {
			break
		}
		select {
		case <-s.exited:
			t.Fatalf("the server exited (%v) without ever answering 503 on %s while draining%s", s.err, c.ReadinessProbe.HTTPGet.Path, s.tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if out, err := healthCheck(addr); err == nil {
		t.Errorf("the image's health check passed against a draining server: %s", out)
	}
	select {
	case <-s.exited:
		if s.err != nil {
			t.Errorf("the server's exit after SIGTERM: %v%s", s.err, s.tail())
		}
	case <-time.After(time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second):
		t.Errorf("the server did not stop within the pod's grace period%s", s.tail())
	}
}

// TestHealthCheckFailure checks that the image's health check fails,
// saying why, when nothing listens or something else answers.
func TestHealthCheckFailure(t *testing.T) {
	out, err := healthCheck(freeAddr(t))
	if err == nil {
		t.Errorf("the health check passed with nothing listening: %s", out)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	out, err = healthCheck(ln.Addr().String())
	if err == nil || !strings.Contains(string(out), "answered 503") {
		t.Errorf("the health check against a 503 = %v, %q; want a failure saying it answered 503", err, out)
	}
}

// exportedSeries returns the names of the series in a /metrics page.
func exportedSeries(page []byte) map[string]bool {
	names := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(page))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names
}

// missingSeries returns the queried names that page does not export,
// sorted, each with where it is queried.
func missingSeries(queried map[string][]string, page []byte) []string {
	have := exportedSeries(page)
	var missing []string
	for n, where := range queried {
		if !have[n] {
			missing = append(missing, fmt.Sprintf("%s (%s)", n, strings.Join(where, ", ")))
		}
	}
	sort.Strings(missing)
	return missing
}

// liveMetricsWait bounds how long TestLiveMetrics waits for the demo to
// bring every series out: its canary's first step, drift windows, labels.
const liveMetricsWait = 2 * time.Minute

// TestLiveMetrics runs compose's switchyard command (the demo, with
// drifted traffic whose labels are fed back) and checks that every
// series the alert rules and the dashboard query is on its /metrics. The
// traffic is 200 requests a second instead of 20, for the canary, the
// drift windows and the label windows to fill sooner.
func TestLiveMetrics(t *testing.T) {
	queried := queriedMetrics(t)
	command := readCompose(t).Services["switchyard"].Command
	addr := freeAddr(t)
	args := append(localArgs(command, t.TempDir(), addr), "--traffic", "200")
	s := startServer(t, addr, args...)
	s.waitFor(t, "/readyz")
	deadline := time.Now().Add(liveMetricsWait)
	for {
		code, page, err := s.get("/metrics")
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET /metrics = %d, %v%s", code, err, s.tail())
		}
		missing := missingSeries(queried, page)
		if len(missing) == 0 {
			return
		}
		select {
		case <-s.exited:
			t.Fatalf("the server exited (%v)%s", s.err, s.tail())
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s of the demo, its /metrics lacks series that the alert rules or the dashboard query:\n  %s\n"+
				"(switchyard_cost_* and switchyard_cache_* come with issue 28's cost and response cache work)",
				liveMetricsWait, strings.Join(missing, "\n  "))
		}
	}
}

// TestMissingSeries proves that the metrics check reports a queried name
// the page lacks, with where it is queried, and takes each exported
// series' name whole.
func TestMissingSeries(t *testing.T) {
	page := []byte("# HELP switchyard_requests_total x\n# TYPE switchyard_requests_total counter\n" +
		`switchyard_requests_total{model="m",version="1",status="200"} 3` + "\n" +
		"switchyard_queue_rows_sum 1\nswitchyard_handler_panics_total 0\n")
	queried := map[string][]string{"switchyard_requests_total": {"panel Requests"},
		"switchyard_queue_rows": {"panel Queue depth"}, "switchyard_handler_panics": {"alert X", "panel Y"}}
	got := missingSeries(queried, page)
	want := []string{"switchyard_handler_panics (alert X, panel Y)", "switchyard_queue_rows (panel Queue depth)"}
	if !slices.Equal(got, want) {
		t.Errorf("missingSeries = %q; want %q", got, want)
	}
}
