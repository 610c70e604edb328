package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestMLflowNPMClient runs the flows of the third-party npm `mlflow`
// client (testdata/mlflow-npm/flows.js: experiments, runs, params,
// metrics and their history, tags, search, artifact listing, delete and
// restore) against switchyard serve. `make mlflow-npm` installs the
// client; without node or the client the test skips, and on CI fails.
func TestMLflowNPMClient(t *testing.T) {
	dir := filepath.Join("testdata", "mlflow-npm")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "mlflow", "index.js"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the npm mlflow client cannot run (%v): make mlflow-npm installs it", err)
		}
		t.Skipf("the npm mlflow client cannot run (%v): make mlflow-npm installs it", err)
	}
	addr := serve(t, "--registry", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "flows.js", "http://"+addr)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node flows.js: %v\n%s", err, out)
	}
}
