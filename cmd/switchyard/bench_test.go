package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/bench"
)

func TestBenchUsage(t *testing.T) {
	out, err := runCmd(t, "bench", "--help")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "Usage: switchyard bench") ||
		!strings.Contains(out, "a bare fasthttp server answering a constant body, the HTTP floor the comparisons measure against") {
		t.Errorf("bench --help = %v\n%s", err, out)
	}
	f := func(args ...string) {
		t.Helper()
		if out, err := runCmd(t, append([]string{"bench"}, args...)...); !errors.Is(err, errUsage) {
			t.Errorf("bench %q = %v; want a usage error\n%s", args, err, out)
		}
	}
	f()
	f("--compare", "--url", "http://127.0.0.1:1/")
	f("--serve-floor", "127.0.0.1:0", "--compare")
	f("--url", "http://127.0.0.1:1/", "--body", "x", "--body-json", "{}")
	f("--url", "http://127.0.0.1:1/", "extra")
	f("--url", "http://127.0.0.1:1/", "-H", "no colon")
	f("--url", "http://127.0.0.1:1/", "-H", ": no name")
	f("--records-cost", "--rounds", "0")
	f("--records-cost", "--canary-cost")
	f("--drift-cost", "--rounds", "0")
	f("--drift-cost", "--gate-cost")
	f("--log-cost", "--rounds", "0")
	f("--log-cost", "--drift-cost")
	f("--cache", "--rounds", "0")
	f("--cache", "--log-cost")
}

// serveFloor runs `switchyard bench --serve-floor` in this process and
// returns its address; it stops when the test ends.
func serveFloor(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"bench", "--serve-floor", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("bench --serve-floor: %v", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("bench --serve-floor printed no address: %v", err)
	}
	go io.Copy(io.Discard, pr)
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "floor listening on ")
	if !ok {
		t.Fatalf("bench --serve-floor printed %q", line)
	}
	return addr
}

// TestBenchLoad drives load at the floor, closed and open loop, and checks
// the table and the JSON.
func TestBenchLoad(t *testing.T) {
	url := "http://" + serveFloor(t) + "/v2/models/small/infer"
	dir := t.TempDir()
	body := filepath.Join(dir, "body.json")
	if err := os.WriteFile(body, bench.InferBody("input", 2, 30, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	f := func(want string, args ...string) {
		t.Helper()
		jsonPath := filepath.Join(dir, "result.json")
		args = append([]string{"bench", "--url", url, "--duration", "200ms", "--warmup", "50ms", "--json", jsonPath}, args...)
		out, err := runCmd(t, args...)
		if err != nil || !strings.Contains(out, want) || !strings.Contains(out, "p99.9") {
			t.Fatalf("%q = %v; want a table mentioning %q\n%s", args, err, want, out)
		}
		data, err := os.ReadFile(jsonPath)
		if err != nil {
			t.Fatal(err)
		}
		var res bench.Result
		if err := json.Unmarshal(data, &res); err != nil {
			t.Fatal(err)
		}
		if res.Requests == 0 || res.OK != res.Requests || res.Status[200] != res.Requests || res.RowsPerRequest != 2 ||
			res.RowsPerSec != 2*res.RequestsPerSec || res.Latency.Count != int(res.OK) {
			t.Fatalf("%q wrote %s", args, data)
		}
	}
	f("closed loop, 3 connections", "--body", body, "-c", "3", "--rows", "2")
	f("open loop at 200 req/s, 2 connections", "--body", body, "--connections", "2", "--rate", "200", "--rows", "2")
}

// buildSwitchyard builds this command into a temporary directory: the
// comparison starts it as child processes, which the test binary cannot
// stand in for.
func buildSwitchyard(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "switchyard")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBenchCompareSmoke runs the whole comparison with very short phases:
// the floor and two servers as real child processes, onnxruntime in
// process. It checks that every measurement was taken and answered
// correctly, never how fast.
func TestBenchCompareSmoke(t *testing.T) {
	bin := buildSwitchyard(t)
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	out, err := runCmd(t, "bench", "--compare", "--smoke", "--binary", bin, "--json", jsonPath)
	if err != nil {
		t.Fatalf("bench --compare --smoke = %v\n%s", err, out)
	}
	for _, want := range []string{"floor (bare fasthttp)", "switchyard small batching off", "switchyard heavy batch≤256",
		"in-process heavy", "goal", "÷ floor req/s", "floor + onnxruntime small", "switchyard heavy batch≤256 binary", "ratio"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	// Floor at 64 and 1 connections, the floor with onnxruntime at 64,
	// then for each of batching off and on 2 models × 64 and 1 connections
	// and the heavy model's binary requests at 64.
	if len(rep.Phases) != 13 || len(rep.InProcess) != 2 || len(rep.Goals) != 4 || len(rep.Ratios) != 4 {
		t.Fatalf("report has %d phases, %d in-process results, %d goals, %d ratios; want 13, 2, 4, 4\n%s",
			len(rep.Phases), len(rep.InProcess), len(rep.Goals), len(rep.Ratios), out)
	}
	for _, p := range rep.Phases {
		if r := p.Result; r.OK == 0 || r.Errors != 0 {
			t.Errorf("%s, %d conns: %d ok, %d errors (status %v, %s)", p.Label(), r.Connections, r.OK, r.Errors, r.Status, r.FirstError)
		}
	}
	for _, ip := range rep.InProcess {
		if len(ip.Batches) != 3 || ip.Best.RowsPerSec <= 0 {
			t.Errorf("in-process %s = %+v; want 3 batch sizes measured", ip.Model, ip)
		}
	}
	for _, r := range rep.Ratios {
		if r.Missing {
			t.Errorf("ratio %q lacks a measurement", r.Name)
		}
	}
	for _, g := range rep.Goals {
		if g.Missing {
			t.Errorf("goal %q lacks a measurement", g.Name)
		}
		if verdict := map[bool]string{true: "PASS", false: "MISS"}[g.Pass]; !strings.Contains(out, verdict) {
			t.Errorf("output lacks the verdict %s of goal %q", verdict, g.Name)
		}
	}
}
