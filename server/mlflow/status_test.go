package mlflow_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/server"
	"github.com/switchyard-ml/switchyard/server/internal/servertest"
	"github.com/switchyard-ml/switchyard/tracking"
)

// recordedServer is a server wired as switchyard serve wires it: the
// gate's verdicts go to the tracking store (servertest's server records
// none), so that a version's status outlives its session and the server.
type recordedServer struct {
	*testServer
	tr   *tracking.Store
	stop func()
}

// serveRecorded serves the registry reg with the tracking store and
// artifacts under data, keeping no version below stable loaded
// (keep_previous none), until the test ends or stop is called.
func serveRecorded(t *testing.T, reg, data string) *recordedServer {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	tr, err := tracking.Open(context.Background(), data, tracking.Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	arts, err := tracking.OpenArtifacts(filepath.Join(data, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	trail := ops.NewTrail(tr)
	store, err := modelstore.Open(context.Background(), modelstore.Config{Dir: reg, Logger: quiet, Debounce: 5 * time.Millisecond,
		KeepPrevious: -1, Verdicts: trail, Auditor: trail, PendingWrites: trail})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := ops.New(ops.Config{Registry: reg, Models: store, Tracking: tr, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Tracking: tr, Registry: tr, RegistryDir: reg, Artifacts: arts, Admin: tr, Ops: svc, Logger: quiet}
	srv, err := server.New(cfg, store, prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
			store.Close()
			arts.Close()
			tr.Close()
		})
	}
	t.Cleanup(stop)
	ts := &testServer{&servertest.Server{URL: "http://" + ln.Addr().String(), Store: store, Dir: reg}}
	return &recordedServer{testServer: ts, tr: tr, stop: stop}
}

// newRegistry returns a registry holding model m with policy (none when
// empty).
func newRegistry(t *testing.T, policy string) string {
	t.Helper()
	reg := filepath.Join(t.TempDir(), "registry")
	if err := mkdir(filepath.Join(reg, "m")); err != nil {
		t.Fatal(err)
	}
	if policy != "" {
		if err := os.WriteFile(filepath.Join(reg, "m", modelstore.PolicyFile), []byte(policy), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// publishClassifier publishes a classifier with weights and an eval set
// as the next version of m, as switchyard publish does.
func publishClassifier(t *testing.T, reg string, weights ...float32) string {
	t.Helper()
	opts := modelstore.PublishOptions{CreatedBy: "test", EvalCSV: testenv.EvalSet(3, 2000), EvalLabel: "label"}
	v, err := modelstore.Publish(reg, "m", testenv.Classifier(weights...), opts)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(v)
}

// versionOf reads a version through model-versions/get: its status, its
// status message and its serving tags as "STATE traffic".
func (ts *testServer) versionOf(t *testing.T, v string) (status, message, serving string) {
	t.Helper()
	mv := ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/get?name=m&version="+v, "")["model_version"].(map[string]any)
	tags := map[string]string{}
	for _, tag := range mv["tags"].([]any) {
		kv := tag.(map[string]any)
		tags[kv["key"].(string)] = kv["value"].(string)
	}
	msg, _ := mv["status_message"].(string)
	return mv["status"].(string), msg, tags["switchyard.state"] + " " + tags["switchyard.traffic"]
}

// TestMLflowVersionStatus follows versions' registration as MLflow
// reports it: PENDING_REGISTRATION until loaded and gated, then READY for
// good (also once drained, and after a restart); FAILED_REGISTRATION
// with the gate's reasons for one that fails its gate. The serving state
// shows in the switchyard.* tags.
func TestMLflowVersionStatus(t *testing.T) {
	reg := newRegistry(t, "gate:\n  metrics:\n    auc: {min: 0.7}\n")
	data := filepath.Join(t.TempDir(), "data")
	ts := serveRecorded(t, reg, data)

	v1 := publishClassifier(t, reg, 4, 2, 0)
	// Until the store has loaded and gated it, it is pending, whatever
	// the moment it is asked at.
	for {
		status, _, serving := ts.versionOf(t, v1)
		if status == "READY" {
			break
		}
		if status != "PENDING_REGISTRATION" || strings.HasPrefix(serving, "READY") {
			t.Fatalf("version 1 while it registers: %s, %s; want PENDING_REGISTRATION while not READY", status, serving)
		}
		time.Sleep(2 * time.Millisecond)
	}
	servertest.Until(t, "version 1 serving", func() bool { return ts.ServedVersion(t, "m") == "1" })
	if status, msg, serving := ts.versionOf(t, v1); status != "READY" || msg != "" || serving != "READY 1" {
		t.Fatalf("version 1 serving: %s %q, %s; want READY, READY 1", status, msg, serving)
	}

	v2 := publishClassifier(t, reg, 0, 0, 0) // the same score for every row: auc 0.5
	servertest.Until(t, "version 2 judged", func() bool { s, _, _ := ts.versionOf(t, v2); return s != "PENDING_REGISTRATION" })
	status, msg, serving := ts.versionOf(t, v2)
	if status != "FAILED_REGISTRATION" || !strings.Contains(msg, "auc") || serving != "FAILED 0" {
		t.Fatalf("version 2 under a gate it fails: %s %q, %s; want FAILED_REGISTRATION with the gate's reasons, FAILED 0", status, msg, serving)
	}

	v3 := publishClassifier(t, reg, 4, 2, 0.1)
	servertest.Until(t, "version 3 serving", func() bool { return ts.ServedVersion(t, "m") == v3 })
	servertest.Until(t, "version 1 drained", func() bool { _, _, s := ts.versionOf(t, v1); return s == "UNLOADED 0" })
	if status, _, _ := ts.versionOf(t, v1); status != "READY" {
		t.Fatalf("version 1 once drained: %s; want READY still (its registration is done)", status)
	}

	rm := func(ts *testServer) (int64, int64) {
		t.Helper()
		got := ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/get?name=m", "")["registered_model"].(map[string]any)
		return int64(got["creation_timestamp"].(float64)), int64(got["last_updated_timestamp"].(float64))
	}
	created, updated := rm(ts.testServer)
	time.Sleep(5 * time.Millisecond)
	if c, u := rm(ts.testServer); c != created || u != updated || created > updated {
		t.Fatalf("registered model read twice: created %d then %d, updated %d then %d; want both stable, created <= updated", created, c, updated, u)
	}

	// A new server over the same registry and tracking store says the
	// same: the verdicts were recorded.
	ts.stop()
	ts = serveRecorded(t, reg, data)
	servertest.Until(t, "version 3 serving again", func() bool { return ts.ServedVersion(t, "m") == v3 })
	for _, c := range []struct{ v, status, msg, serving string }{
		{v1, "READY", "", "UNLOADED 0"},
		{v2, "FAILED_REGISTRATION", "auc", "FAILED 0"}, // judged again at the start, or not: its verdict says
		{v3, "READY", "", "READY 1"},
	} {
		status, msg, serving := ts.versionOf(t, c.v)
		if status != c.status || !strings.Contains(msg, c.msg) || c.msg == "" && msg != "" || serving != c.serving && !(c.v == v2 && serving == "UNLOADED 0") {
			t.Errorf("after a restart, version %s: %s %q, %s; want %s %q, %s", c.v, status, msg, serving, c.status, c.msg, c.serving)
		}
	}
	if c, _ := rm(ts.testServer); c != created {
		t.Errorf("after a restart the registered model was created at %d; want %d as before", c, created)
	}

	// A version published without MLflow has an absolute source a
	// client can use: its download URI.
	mv := ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/get?name=m&version=1", "")["model_version"].(map[string]any)
	if mv["source"] != "mlflow-artifacts:/registry/m/1" {
		t.Errorf("source of a version published with the CLI = %v; want its download URI", mv["source"])
	}
}
