package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errs bytes.Buffer
	err := run(context.Background(), args, &out, &errs)
	return out.String() + errs.String(), err
}

// serve starts `switchyard serve` on a loopback port and returns its
// address; the server stops, at once, when the test ends.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	addr, stop := startServe(t, append([]string{"--drain-delay", "0"}, args...)...)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return addr
}

// startServe starts `switchyard serve` on a loopback port and returns its
// address and a function that stops it as SIGTERM would (serve's context
// is cancelled) and returns once serve has.
func startServe(t *testing.T, args ...string) (addr string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"}, args...), pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve printed no address: %v (%v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(strings.TrimPrefix(line, "switchyard listening on ")), func() error {
		cancel()
		return <-done
	}
}

// TestDemoCurlLine checks the requests the demo prints for a registry it
// published without serving it: serve serves the registry, and the
// printed V2 curl request, the record encoded as the model's one-hot
// input, returns the probabilities that the answering version's weights
// give in Go. (The model's policy rolls version 2 out as a canary once a
// server sees it, so either version may answer.)
func TestDemoCurlLine(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry")
	out, err := runCmd(t, "demo", "--registry", reg)
	if err != nil || !strings.Contains(out, "published fraud version 1") {
		t.Fatalf("demo = %v\n%s", err, out)
	}
	m := regexp.MustCompile(`curl -s (\S+)(/v2/models/fraud/infer) -H 'Content-Type: application/json' -d '([^']+)'`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo printed no curl line:\n%s", out)
	}
	if m[1] != "localhost:8080" {
		t.Errorf("curl line targets %s; want localhost:8080, where make run serves", m[1])
	}
	if !strings.Contains(out, "curl -s localhost:8080/v1/models/fraud:predict -H 'Content-Type: application/json' -d '{\"instances\":[{\"amount\":") {
		t.Errorf("demo printed no records request:\n%s", out)
	}
	addr := serve(t, "--registry", reg)
	resp, err := http.Post("http://"+addr+m[2], "application/json", strings.NewReader(m[3]))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		ModelVersion string `json:"model_version"`
		Outputs      []struct {
			Name string
			Data []float64
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("curl request = %d, %v", resp.StatusCode, err)
	}
	build := map[string]func(uint64) (*demo.Fraud, error){"1": demo.BuildFraud, "2": demo.BuildFraudNet}[got.ModelVersion]
	if build == nil {
		t.Fatalf("version %q answered; want 1 or 2", got.ModelVersion)
	}
	f, err := build(1)
	if err != nil {
		t.Fatal(err)
	}
	first, err := demo.BuildFraud(1)
	if err != nil {
		t.Fatal(err)
	}
	labels, probs := f.Predict(demo.Encode(first.Eval.Row(first.Sample)))
	if len(got.Outputs) != 2 || got.Outputs[0].Data[0] != float64(labels[0]) {
		t.Fatalf("response = %+v; want label %d", got, labels[0])
	}
	for i, p := range probs {
		if math.Abs(got.Outputs[1].Data[i]-float64(p)) > 1e-5 {
			t.Fatalf("probabilities = %v; want %v within 1e-5", got.Outputs[1].Data, probs)
		}
	}
	if labels[0] != 1 {
		t.Errorf("the demo's sample is not flagged as fraud by version %s (p=%v)", got.ModelVersion, probs[1])
	}

	// A second demo run publishes nothing new unless forced.
	if out, err := runCmd(t, "demo", "--registry", reg); err != nil || !strings.Contains(out, "already has model") {
		t.Fatalf("second demo = %v\n%s", err, out)
	}
	if out, err := runCmd(t, "demo", "--registry", reg, "--force"); err != nil || !strings.Contains(out, "published fraud version 3") {
		t.Fatalf("demo --force = %v\n%s", err, out)
	}
}

func TestPublish(t *testing.T) {
	dir := t.TempDir()
	onnxPath := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(onnxPath, onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model().Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join(dir, "reg")
	for want := range []string{"1", "2"} {
		out, err := runCmd(t, "publish", "--registry", reg, "--model", "m", "--onnx", onnxPath, "--note", "hello")
		if err != nil || strings.TrimSpace(out) != []string{"1", "2"}[want] {
			t.Fatalf("publish = %q, %v", out, err)
		}
	}
	manifest, err := os.ReadFile(filepath.Join(reg, "m", "2", "manifest.json"))
	if err != nil || !bytes.Contains(manifest, []byte(`"description": "hello"`)) {
		t.Fatalf("manifest = %s, %v", manifest, err)
	}
	garbage := filepath.Join(dir, "garbage.onnx")
	os.WriteFile(garbage, []byte("nope"), 0o644)
	if _, err := runCmd(t, "publish", "--registry", reg, "--model", "m", "--onnx", garbage); err == nil {
		t.Fatal("publishing garbage succeeded")
	}
	if _, err := runCmd(t, "publish", "--registry", reg, "--model", "m"); !errors.Is(err, errUsage) {
		t.Fatalf("publish without --onnx = %v; want a usage error", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(reg, "m")); len(entries) != 2 {
		t.Fatalf("registry holds %d entries after a refused publish; want the 2 versions", len(entries))
	}
}

func TestUsage(t *testing.T) {
	for _, verb := range []string{"serve", "publish", "demo", "status", "runs", "audit", "repro"} {
		out, err := runCmd(t, verb, "--help")
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "Usage: switchyard "+verb) || !strings.Contains(out, "-registry") {
			t.Errorf("%s --help = %v\n%s", verb, err, out)
		}
	}
	if out, err := runCmd(t, "--help"); err != nil || !strings.Contains(out, "publish") || !strings.Contains(out, "repro") {
		t.Errorf("--help = %v\n%s", err, out)
	}
	if _, err := runCmd(t, "frobnicate"); !errors.Is(err, errUsage) {
		t.Errorf("unknown verb = %v; want a usage error", err)
	}
	if _, err := runCmd(t, "serve", "--no-such-flag"); !errors.Is(err, errUsage) {
		t.Errorf("unknown flag = %v; want a usage error", err)
	}
	if _, err := runCmd(t); !errors.Is(err, errUsage) {
		t.Errorf("no verb = %v; want a usage error", err)
	}
}

func TestMissingLibraryNamesMakeOrt(t *testing.T) {
	_, err := runCmd(t, "serve", "--registry", t.TempDir(), "--ort-lib", "/nonexistent/libonnxruntime.so")
	if err == nil || !strings.Contains(err.Error(), "make ort") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("serve with a missing library = %v; want one line naming make ort", err)
	}
}

// TestServeEmptyRegistry checks that a server with nothing to serve is
// ready (there is nothing to wait for) and stops cleanly on cancel (in
// serve's cleanup).
func TestServeEmptyRegistry(t *testing.T) {
	addr := serve(t, "--registry", t.TempDir())
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("readyz = %d; want 200", resp.StatusCode)
	}
}
