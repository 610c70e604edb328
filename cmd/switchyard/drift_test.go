package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/internal/onnx"
)

func TestDriftPrintsTheReport(t *testing.T) {
	p, mean, sd := 0.001, 1.5, 1.0
	rep := drift.Report{Model: "fraud", Versions: []drift.VersionReport{
		{Version: 1, Status: drift.StatusInvalidProfile, Reason: "profile.json: drift: invalid profile: unexpected EOF", Sample: 1},
		{Version: 2, Status: drift.StatusOK, Sample: 0.5, Window: &drift.WindowReport{
			Start: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 6, 12, 10, 0, 0, time.UTC), Rows: 5000,
			Features: []drift.Result{
				{Column: "amount", Test: drift.KS, Statistic: 0.31, PValue: &p, Threshold: 0.05, Drifted: true,
					Reference: drift.Summary{Rows: 1000, Mean: new(0.0), Std: &sd}, Current: drift.Summary{Rows: 5000, Mean: &mean, Std: &sd}},
				{Column: "country", Test: drift.JensenShannon, Statistic: 0.02, Threshold: 0.1,
					Reference: drift.Summary{Top: map[string]float64{"FR": 0.6, "DE": 0.4}}, Current: drift.Summary{Top: map[string]float64{"FR": 0.5, "DE": 0.5}}},
			},
			DatasetShare: 0.5, DatasetDrift: true,
			Prediction: &drift.Result{Column: "score", Test: drift.Wasserstein, Statistic: 0.05, Threshold: 0.1},
		}},
	}}
	var seen string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.URL.String()
		if r.Header.Get("Authorization") != "Bearer secret" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error": "a token is needed"}`))
			return
		}
		json.NewEncoder(w).Encode(rep)
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"drift", "fraud", "--server", srv.URL, "--token", "secret"}, &out, &errOut); err != nil {
		t.Fatalf("drift: %v (%s)", err, errOut.String())
	}
	if seen != "/admin/models/fraud/drift" {
		t.Errorf("asked %s", seen)
	}
	for _, want := range []string{
		"fraud version 1: invalid_profile", "unexpected EOF",
		"fraud version 2: ok (sample 0.5)", "5000 rows: dataset drift YES (0.50 of the features)",
		"amount", "0.001", "YES", "mean 0 sd 1", "mean 1.5 sd 1", "FR 60%, DE 40%", "score (prediction)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"drift", "fraud", "--version", "2", "--server", srv.URL, "--token", "secret"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if seen != "/admin/models/fraud/drift?version=2" {
		t.Errorf("asked %s; want ?version=2", seen)
	}
	if err := run(context.Background(), []string{"drift", "fraud", "--server", srv.URL, "--token", ""}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("without a token: %v; want the server's error", err)
	}
	for _, args := range [][]string{{"drift"}, {"drift", "a", "b"}, {"drift", "a", "--version", "-1"}} {
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("%q: nil error; want a usage error", args)
		}
	}
}

// TestServeRefusesBadWebhook checks that a bad --alert-webhook is refused
// before anything is made: no data directory appears in the registry.
func TestServeRefusesBadWebhook(t *testing.T) {
	for _, args := range [][]string{
		{"--alert-webhook", "ftp://example.com/hook"},
		{"--alert-webhook", "localhost:9000"},
		{"--drift=false", "--alert-webhook", "http://127.0.0.1:9/hook"},
	} {
		dir := t.TempDir()
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"serve", "--registry", dir, "--addr", "127.0.0.1:0"}, args...), &out, &errOut)
		if err == nil || !strings.Contains(errOut.String(), "--alert-webhook") {
			t.Errorf("serve %q = %v, stderr %q; want a usage error naming --alert-webhook", args, err, errOut.String())
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("serve %q left %v in the registry", args, entries)
		}
	}
}

// TestServeRunsTheDriftMonitor checks the wiring: a request to a served
// version reaches the monitor, and switchyard drift shows its report (a
// version without a profile says why).
func TestServeRunsTheDriftMonitor(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	path := filepath.Join(dir, "churn.onnx")
	if err := os.WriteFile(path, onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model().Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(t, "publish", "--registry", reg, "--model", "churn", "--onnx", path); err != nil {
		t.Fatalf("publish = %v\n%s", err, out)
	}
	addr := serve(t, "--registry", reg)
	body := `{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3], "data": [1, 2, 3]}]}`
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, err := http.Post("http://"+addr+"/v2/models/churn/infer", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		out, err := runCmd(t, "drift", "churn", "--server", addr)
		if err == nil && strings.Contains(out, "churn version 1: no_profile") && strings.Contains(out, "has no profile.json") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("drift = %v\n%s\nwant version 1 without a profile", err, out)
		}
	}
}
