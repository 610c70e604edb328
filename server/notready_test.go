package server

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// TestNotReadyReadsAsSentence: the 503 for a model whose only version
// failed its gate says so in a sentence a user can act on, with the
// verdict's reason, and no package name or stray punctuation from how
// the error was put together.
func TestNotReadyReadsAsSentence(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	policy := "gate:\n  metrics:\n    auc: {min: 0.7}\n"
	if err := os.WriteFile(filepath.Join(dir, "m", modelstore.PolicyFile), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := modelstore.PublishOptions{CreatedBy: "test", EvalCSV: testenv.EvalSet(3, 200), EvalLabel: "label"}
	if _, err := modelstore.Publish(dir, "m", testenv.Classifier(0, 0, 0), opts); err != nil { // constant scores
		t.Fatal(err)
	}
	ts := serveRegistry(t, dir, Config{})
	until(t, "version 1 judged", func() bool {
		m := ts.store.Model("m")
		return m != nil && len(m.Versions) == 1 && m.Versions[0].State() == modelstore.Failed
	})
	body := requestJSON("input", "FP32", []int64{1, 3}, []float32{0.5, -1, 2})
	f := func(path, want string) {
		t.Helper()
		r := ts.do(t, "POST", path, body)
		var e struct{ Error string }
		if err := json.Unmarshal(r.body, &e); err != nil || r.status != 503 {
			t.Fatalf("POST %s = %d %s; want 503 and an error", path, r.status, r.body)
		}
		if !strings.HasPrefix(e.Error, want) {
			t.Errorf("POST %s says %q; want it to start %q", path, e.Error, want)
		}
		for _, bad := range []string{"modelstore:", ": gate: ", ".:", ".)", "..", "not ready"} {
			if strings.Contains(e.Error, bad) {
				t.Errorf("POST %s says %q; it must not contain %q", path, e.Error, bad)
			}
		}
	}
	f("/v2/models/m/infer", `model "m" has no version ready to serve: version 1 failed its gate: `)
	f("/v2/models/m/versions/1/infer", `model "m" version 1 failed its gate: `)
}
