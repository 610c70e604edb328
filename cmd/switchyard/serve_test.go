package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// TestPublishWhileServing walks the README: a version published with the
// CLI while serve runs is picked up by the watcher and answers, with the
// one it replaced kept, as the repository index shows.
func TestPublishWhileServing(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	publish := func(seed uint64) {
		t.Helper()
		path := filepath.Join(dir, "churn.onnx")
		if err := os.WriteFile(path, onnx.RandomMLP(seed, onnx.ActivationNone, 3, 2).Model().Marshal(), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := runCmd(t, "publish", "--registry", reg, "--model", "churn", "--onnx", path, "--note", "xgboost, Nov data"); err != nil {
			t.Fatalf("publish = %v\n%s", err, out)
		}
	}
	publish(1)
	addr := serve(t, "--registry", reg, "--keep-previous", "1", "--rescan-interval", "30s", "--memory-budget", "1GiB")
	publish(2)
	served := func() string {
		resp, err := http.Get("http://" + addr + "/v2/models/churn")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Model-Version")
	}
	for deadline := time.Now().Add(30 * time.Second); served() != "2"; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("version 2 did not serve within 30s of its publish; %q serves", served())
		}
	}
	resp, err := http.Post("http://"+addr+"/v2/repository/index", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var index []struct{ Name, Version, State string }
	if err := json.NewDecoder(resp.Body).Decode(&index); err != nil {
		t.Fatal(err)
	}
	if len(index) != 2 || index[0].State != "READY" || index[1].State != "READY" {
		t.Fatalf("index = %+v; want versions 1 (kept) and 2 (serving) READY", index)
	}
}

func TestServeRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--memory-budget", "lots"},
		{"--memory-budget", "-1GiB"},
		{"--rescan-interval", "often"},
		{"--rollout-steps", "5000,500"},
		{"--on-publish", "yolo"},
		{"--rollout-steps", "ten%"},
		{"--prediction-log", "--no-tracking"},
		{"--cost-per-core-hour", "-0.5"},
		{"--cost-per-core-hour", "NaN"},
		{"--cost-per-core-hour", "cheap"},
		{"--stream", "http://127.0.0.1:4222"},
		{"--stream", "nats://127.0.0.1"},
		{"--stream", "nats://127.0.0.1:4222", "--no-tracking"},
		{"--tracking-dsn", "postgres://x@127.0.0.1/db", "--no-tracking"},
	} {
		out, err := runCmd(t, append([]string{"serve", "--registry", t.TempDir()}, args...)...)
		if !errors.Is(err, errUsage) || !strings.Contains(out, args[0][2:]) {
			t.Errorf("serve %v = %v; want a usage error naming the flag\n%s", args, err, out)
		}
	}
}
