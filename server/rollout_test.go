package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// TestRolloutJSONUnderServe edits rollout.json under a running server: a
// canary split by weight with sticky keys, a refused contradictory edit
// that leaves the last good state serving, a rollback that takes effect
// on the next request, and a restart that resumes the same state.
func TestRolloutJSONUnderServe(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model())
	testenv.Publish(t, dir, "m", onnx.RandomMLP(2, onnx.ActivationNone, 3, 2).Model())
	ts := serveRegistry(t, dir, Config{})
	body := requestJSON("input", "FP32", []int64{1, 3}, []float32{1, 2, 3})
	version := func(key string) string {
		t.Helper()
		req := "POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		if key != "" {
			req += "X-Routing-Key: " + key + "\r\n"
		}
		r := ts.raw(t, req+"Content-Length: "+strconv.Itoa(len(body))+"\r\nConnection: close\r\n\r\n"+body)
		if r.status != 200 {
			t.Fatalf("infer = %d %s", r.status, r.body)
		}
		return r.header.Get("X-Model-Version")
	}
	write := func(st string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "m", rollout.StateFile), []byte(st), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if v := version(""); v != "2" {
		t.Fatalf("without rollout.json version %s serves; want the newest, 2", v)
	}
	write(`{"stable": 1, "candidate": 2, "strategy": "canary", "step": 1, "weight": 2500, "actor": "test", "reason": "canary"}`)
	until(t, "the canary split", func() bool {
		rt := ts.store.Table().Route("m")
		return rt != nil && len(rt.Arms()) == 2
	})
	onCandidate := 0
	const n = 400
	for i := range n {
		key := fmt.Sprint("user-", i)
		v := version(key)
		if again := version(key); again != v {
			t.Fatalf("key %s went to version %s, then %s", key, v, again)
		}
		if v == "2" {
			onCandidate++
		}
	}
	if share := float64(onCandidate) / n; share < 0.18 || share > 0.32 {
		t.Fatalf("%.2f of keys on the candidate at weight 2500 bp", share)
	}
	// Without the header, the request's id is the key: the same id lands
	// on the same version, and on the same one as the header would.
	byID := func(id string) string {
		t.Helper()
		b := `{"id":"` + id + `",` + strings.TrimPrefix(body, "{")
		out := ts.infer(t, "/v2/models/m/infer", b)
		if out.ID != id {
			t.Fatalf("id %q echoed as %q", id, out.ID)
		}
		return out.ModelVersion
	}
	for i := range 100 {
		key := fmt.Sprint("user-", i)
		if a, b, c := byID(key), byID(key), version(key); a != b || a != c {
			t.Fatalf("id %s went to versions %s and %s; the header sends it to %s", key, a, b, c)
		}
	}
	if r := ts.do(t, "GET", "/v2/models/m", ""); r.header.Get("X-Model-Version") != "1" {
		t.Fatalf("model metadata describes version %s; want the stable 1", r.header.Get("X-Model-Version"))
	}
	// A contradictory edit is refused; the split stays.
	write(`{"stable": 1, "candidate": 9, "strategy": "canary", "weight": 5000}`)
	write(`{"stable": 2, "candidate": 2, "strategy": "canary", "weight": 5000}`)
	ts.store.Rescan(t.Context())
	if rt := ts.store.Table().Route("m"); len(rt.Arms()) != 2 || rt.Arms()[0].Weight != 2500 {
		t.Fatalf("after refused edits the route is %+v; want the 2500 bp split", rt.Arms())
	}
	// Roll back: stable 1 alone, on the next request.
	write(`{"stable": 1, "strategy": "manual", "actor": "ana", "reason": "rollback"}`)
	ts.store.Rescan(t.Context())
	for i := range 50 {
		if v := version(fmt.Sprint("user-", i)); v != "1" {
			t.Fatalf("after the rollback version %s answered", v)
		}
	}
	// Mid-canary state survives a restart.
	write(`{"stable": 1, "candidate": 2, "strategy": "canary", "step": 2, "weight": 5000}`)
	ts2 := serveRegistry(t, dir, Config{})
	rt := ts2.store.Table().Route("m")
	if len(rt.Arms()) != 2 || rt.Arms()[0].Version != 2 || rt.Arms()[0].Weight != 5000 || rt.Arms()[1].Version != 1 {
		t.Fatalf("after a restart the route is %+v; want candidate 2 at 5000 bp over stable 1", rt.Arms())
	}
	var index []indexEntry
	json.Unmarshal(ts2.do(t, "POST", "/v2/repository/index", "").body, &index)
	if !strings.Contains(fmt.Sprint(index), "READY") {
		t.Fatalf("index = %v", index)
	}
}

// refusals records what the store refuses.
type refusals struct {
	mu  sync.Mutex
	log []string
}

func (r *refusals) AuditRefusal(_ context.Context, model, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, model+": "+reason)
	return nil
}

func (r *refusals) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.log, "\n")
}

// TestRefusedRolloutJSONIsAudited checks that a contradictory
// rollout.json reaches the audit trail with its reason.
func TestRefusedRolloutJSONIsAudited(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model())
	var audit refusals
	st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Auditor: &audit, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := os.WriteFile(filepath.Join(dir, "m", rollout.StateFile), []byte(`{"stable": 1, "candidate": 1, "strategy": "canary"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.Rescan(context.Background()); err != nil {
		t.Fatal(err)
	}
	until(t, "the refusal audited", func() bool { return strings.Contains(audit.String(), "candidate 1 is the stable version") })
}
