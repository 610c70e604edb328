package server

import (
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
)

// TestArmStatsRecorded checks that every answered request is counted on
// the version that answered it, with its score, and shows in the admin
// API.
func TestArmStatsRecorded(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", onnx.RandomMLP(7, onnx.ActivationSoftmax, 3, 4, 2).Model())
	ts := serveRegistry(t, dir, Config{})
	for range 20 {
		ts.infer(t, "/v2/models/m/infer", requestJSON("input", "FP32", []int64{2, 3}, testenv.Rows(1, 6)))
	}
	ts.do(t, "POST", "/v2/models/m/infer", `{"inputs":[]}`) // a 400: the client's fault, not counted
	v, err := ts.store.Lookup("m", 0)
	if err != nil {
		t.Fatal(err)
	}
	st := v.Stats.Snapshot()
	if st.Requests != 20 || st.Errors != 0 || st.Scores.Total() != 40 || st.P99() <= 0 {
		t.Fatalf("stats = %d requests, %d errors, %d scores, p99 %v; want 20, 0, 40 (2 rows each), positive",
			st.Requests, st.Errors, st.Scores.Total(), st.P99())
	}
	r := ts.do(t, "GET", "/admin/models/m", "")
	if !strings.Contains(string(r.body), `"stats":{"requests":20,"errors":0,"error_rate":0,`) {
		t.Fatalf("admin model = %s", r.body)
	}
}
