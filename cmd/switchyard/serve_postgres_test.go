package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/pgtest"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestServeTrackingOnPostgres serves with --tracking-dsn, logs a run as
// an MLflow client does, and reads it back: from a second server on the
// same database with a data directory of its own, as a replica, and from
// `runs show`, which reads $SWITCHYARD_TRACKING_DSN. Neither data
// directory gains a tracking.db. One of the two leads
// (switchyard_lead_leader); when it stops, the other takes over.
func TestServeTrackingOnPostgres(t *testing.T) {
	dsn := pgtest.New(t).DSN(t)
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	if err := os.Mkdir(reg, 0o755); err != nil {
		t.Fatal(err)
	}
	one, two := filepath.Join(dir, "one"), filepath.Join(dir, "two")
	first, stop := startServe(t, "--registry", reg, "--data-dir", one, "--tracking-dsn", dsn, "--drain-delay", "0")
	stopFirst := sync.OnceValue(stop) // the test may stop it before its end
	t.Cleanup(func() { stopFirst() })
	run := mlflowPost(t, first, "", "POST", "runs/create", `{"experiment_id":"0","user_id":"ben","run_name":"xgb","start_time":1700000000000}`)
	id := run["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	mlflowPost(t, first, "", "POST", "runs/log-batch", fmt.Sprintf(`{"run_id":%q,
		"metrics":[{"key":"auc","value":0.91,"timestamp":1700000001000,"step":1}],
		"params":[{"key":"max_depth","value":"6"}],"tags":[{"key":"team","value":"risk"}]}`, id))

	second, stop := startServe(t, "--registry", reg, "--data-dir", two, "--tracking-dsn", dsn, "--drain-delay", "0")
	stopSecond := sync.OnceValue(stop)
	t.Cleanup(func() { stopSecond() })
	got := mlflowPost(t, second, "", "GET", "runs/get?run_id="+id, "")["run"].(map[string]any)
	data := fmt.Sprint(got["data"])
	for _, w := range []string{"auc", "0.91", "max_depth", "team", "risk"} {
		if !strings.Contains(data, w) {
			t.Errorf("the second server's runs/get lacks %q: %s", w, data)
		}
	}

	t.Setenv(envTrackingDSN, dsn)
	out, err := runCmd(t, "runs", "show", id, "--registry", reg)
	if err != nil || !strings.Contains(out, "max_depth") || !strings.Contains(out, "0.91") {
		t.Errorf("runs show with $%s = %v\n%s", envTrackingDSN, err, out)
	}
	for _, d := range []string{one, two, filepath.Join(reg, ".switchyard")} {
		if _, err := os.Stat(filepath.Join(d, tracking.FileName)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v; want no %s beside a PostgreSQL store", d, err, tracking.FileName)
		}
	}

	leads := func(addr string) bool {
		t.Helper()
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(string(body), "\nswitchyard_lead_leader 1\n")
	}
	awaitLeader := func(addrs ...string) string {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			for _, a := range addrs {
				if leads(a) {
					return a
				}
			}
		}
		t.Fatalf("none of %v leads after 30s", addrs)
		return ""
	}
	leader, stopLeader, other := first, stopFirst, second
	if awaitLeader(first, second) == second {
		leader, stopLeader, other = second, stopSecond, first
	}
	if leads(other) {
		t.Fatal("both replicas lead")
	}
	if err := stopLeader(); err != nil {
		t.Fatalf("stopping the leader %s: %v", leader, err)
	}
	awaitLeader(other)
}

// TestServeRefusesBadTrackingDSN checks that a DSN that does not parse,
// or names no server, stops serve with an error naming PostgreSQL, and
// that --tracking-dsn with --no-tracking is a usage error.
func TestServeRefusesBadTrackingDSN(t *testing.T) {
	reg := t.TempDir()
	for _, dsn := range []string{"postgres://%zz", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"} {
		out, err := runCmd(t, "serve", "--registry", reg, "--addr", "127.0.0.1:0", "--tracking-dsn", dsn)
		if err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
			t.Errorf("serve --tracking-dsn %s = %v; want an error naming PostgreSQL\n%s", dsn, err, out)
		}
	}
	out, err := runCmd(t, "serve", "--registry", reg, "--tracking-dsn", "postgres://x@127.0.0.1/db", "--no-tracking")
	if !errors.Is(err, errUsage) || !strings.Contains(out, "tracking-dsn") {
		t.Errorf("serve --tracking-dsn --no-tracking = %v; want a usage error naming the flag\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(reg, ".switchyard", tracking.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused serve left %s: %v", tracking.FileName, err)
	}
}
