package admin_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/server/internal/servertest"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestAdminRolloutActions promotes, rolls back, pauses and resumes
// through the operations API and checks the routing table after each,
// the audit trail, and the refusals.
func TestAdminRolloutActions(t *testing.T) {
	dir := t.TempDir()
	for seed := range 3 {
		testenv.Publish(t, dir, "m", onnx.RandomMLP(uint64(seed), onnx.ActivationNone, 3, 2).Model())
	}
	tr, err := tracking.Open(context.Background(), filepath.Join(t.TempDir(), "data"), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	ts := serveRegistry(t, dir, Config{Admin: tr})
	arms := func() string {
		var b strings.Builder
		for _, a := range ts.Store.Table().Route("m").Arms() {
			b.WriteString(strings.Repeat(" ", min(b.Len(), 1)))
			b.WriteString(servertest.JSONOf(map[string]int{"v": a.Version, "w": a.Weight}))
		}
		return b.String()
	}
	act := func(action, body string, status int) map[string]any {
		t.Helper()
		r := ts.Do(t, "POST", "/admin/models/m/"+action, body)
		var out map[string]any
		json.Unmarshal(r.Body, &out)
		if r.Status != status {
			t.Fatalf("%s %s = %d %s; want %d", action, body, r.Status, r.Body, status)
		}
		return out
	}
	// Version 3 serves (newest); keep_previous keeps 2 loaded. Roll back
	// to 2, then canary 3 over it.
	act("rollback", `{"reason":"bad numbers","actor":"ana"}`, 200)
	if got := arms(); got != `{"v":2,"w":10000}` {
		t.Fatalf("after rollback: %s", got)
	}
	act("promote", `{"version":3,"strategy":"canary","reason":"retry","actor":"ana"}`, 200)
	servertest.Until(t, "the canary split", func() bool { return arms() == `{"v":3,"w":500} {"v":2,"w":9500}` })
	act("pause", `{"reason":"weekend","actor":"ana"}`, 200)
	if st, _ := rollout.ReadState(filepath.Join(dir, "m")); !st.Paused || st.Candidate != 3 || st.Weight != 500 {
		t.Fatalf("paused state = %+v", st)
	}
	act("resume", `{"reason":"monday","actor":"ana"}`, 200)
	act("promote", `{"version":3,"reason":"looks good","actor":"ana"}`, 200) // finish: bluegreen by default
	if got := arms(); got != `{"v":3,"w":10000}` {
		t.Fatalf("after finishing the canary: %s", got)
	}
	// A rollback with a candidate drops it; without one, goes to previous.
	act("promote", `{"version":2,"strategy":"canary","reason":"compare","actor":"ana"}`, 200)
	act("rollback", `{"reason":"worse","actor":"ana"}`, 200)
	if got := arms(); got != `{"v":3,"w":10000}` {
		t.Fatalf("after rolling back a canary: %s", got)
	}

	act("promote", `{"version":3,"reason":"again"}`, 400)
	act("promote", `{"version":9,"reason":"nope"}`, 400)
	act("promote", `{"version":2,"strategy":"yolo","reason":"x"}`, 400)
	act("promote", `{"version":2}`, 400)
	act("rollback", `{`, 400)
	if r := ts.Do(t, "POST", "/admin/models/nope/rollback", `{"reason":"x"}`); r.Status != 404 {
		t.Fatalf("rollback of an unknown model = %d %s", r.Status, r.Body)
	}
	if got := arms(); got != `{"v":3,"w":10000}` {
		t.Fatalf("refused actions changed the route: %s", got)
	}
	log, err := tr.AuditLog(context.Background(), tracking.AuditQuery{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append([]string{e.Action}, actions...)
	}
	if got := strings.Join(actions, " "); got != "rollback promote pause resume promote promote rollback" {
		t.Fatalf("audit trail: %s", got)
	}
	if log[0].Actor != "ana" || log[0].Reason != "worse" {
		t.Fatalf("last entry = %+v", log[0])
	}
}
