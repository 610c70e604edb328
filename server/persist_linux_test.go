package server

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
)

// TestUnwrittenRollbackIsReported rolls a model back through the
// operations API while its directory is read-only (issue 23, defect 4):
// the rollback serves at once, from memory, and readiness (both forms)
// and the operations API say that rollout.json is not written, until the
// registry is writable again and the retry writes it.
func TestUnwrittenRollbackIsReported(t *testing.T) {
	dir := t.TempDir()
	for seed := range 2 {
		testenv.Publish(t, dir, "m", onnx.RandomMLP(uint64(seed), onnx.ActivationNone, 3, 2).Model())
	}
	ts := serveRegistry(t, dir, Config{})
	until(t, "version 2 serving", func() bool { return ts.servedVersion(t, "m") == "2" })
	writable := testenv.ReadOnly(t, filepath.Join(dir, "m"))

	if r := ts.do(t, "POST", "/admin/models/m/rollback", `{"reason":"p99 doubled"}`); r.status != 200 {
		t.Fatalf("rollback on a read-only registry = %d %s; want 200", r.status, r.body)
	}
	if v := ts.servedVersion(t, "m"); v != "1" {
		t.Fatalf("after the rollback version %s serves; want 1", v)
	}
	var ready struct {
		Ready    bool     `json:"ready"`
		Warnings []string `json:"warnings"`
	}
	r := ts.do(t, "GET", "/v2/health/ready", "")
	if err := json.Unmarshal(r.body, &ready); err != nil || r.status != 200 || !ready.Ready || len(ready.Warnings) != 1 ||
		!strings.HasPrefix(ready.Warnings[0], "m: rollout.json not written") {
		t.Fatalf("readiness = %d %s (%v); want ready with a warning about m's rollout.json", r.status, r.body, err)
	}
	if r := ts.do(t, "GET", "/readyz", ""); r.status != 200 || !strings.Contains(string(r.body), "\nwarning: m: rollout.json not written") {
		t.Fatalf("/readyz = %d %q; want ok and the warning", r.status, r.body)
	}
	var m struct {
		PersistError string `json:"persist_error"`
	}
	if r := ts.do(t, "GET", "/admin/models/m", ""); json.Unmarshal(r.body, &m) != nil || !strings.Contains(m.PersistError, "read-only") {
		t.Fatalf("/admin/models/m = %d %s; want persist_error naming the read-only file system", r.status, r.body)
	}

	writable()
	until(t, "the warning cleared once rollout.json is written", func() bool {
		return string(ts.do(t, "GET", "/v2/health/ready", "").body) == `{"ready":true}`
	})
	if v := ts.servedVersion(t, "m"); v != "1" {
		t.Fatalf("after the write version %s serves; want 1", v)
	}
}
