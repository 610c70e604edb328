package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// TestTensorTooLarge checks that a request whose input tensor would pass
// the engine's MaxTensorBytes is answered 413, naming the tensor and the
// limit, on the V2 and the records paths, and is not counted against the
// version as a server error.
func TestTensorTooLarge(t *testing.T) {
	dir := t.TempDir()
	if _, err := modelstore.Publish(dir, "fraud", recordsFraud.Model().Marshal(), modelstore.PublishOptions{
		Features: recFraudFeatures(), Classes: []string{"legit", "fraud"}, CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	// 24 bytes a row (6 FP32 features): batches of up to 42 rows fit.
	ts := serveStore(t, modelstore.Config{Dir: dir, Engine: engine.Config{MaxTensorBytes: 1 << 10}}, Config{})
	f := func(path, body, want string) {
		t.Helper()
		r := ts.do(t, "POST", path, body)
		var e struct{ Error string }
		if r.status != 413 || json.Unmarshal(r.body, &e) != nil || !strings.Contains(e.Error, want) {
			t.Errorf("POST %s (%d bytes) = %d %s; want 413 saying %s", path, len(body), r.status, r.body, want)
		}
		if r.header.Get("X-Model-Version") != "1" {
			t.Errorf("POST %s: 413 without X-Model-Version", path)
		}
	}
	const rows = 100
	data := strings.TrimSuffix(strings.Repeat("0.5,", rows*6), ",")
	f("/v2/models/fraud/infer",
		fmt.Sprintf(`{"inputs":[{"name":"input","datatype":"FP32","shape":[%d,6],"data":[%s]}]}`, rows, data),
		`input "input" of shape [100 6] (FP32) would take 2400 bytes, over the limit of 1024 bytes`)
	instances := strings.TrimSuffix(strings.Repeat(`{"amount":1,"hour":3,"country":"FR"},`, rows), ",")
	f("/v1/models/fraud:predict", `{"instances":[`+instances+`]}`, "over the limit of 1024 bytes")

	// Requests that fit still run, and the refusals were the client's.
	ts.predict(t, "/v1/models/fraud:predict", `{"instances":[{"amount":1,"hour":3,"country":"FR"}]}`)
	v, err := ts.store.Lookup("fraud", 0)
	if err != nil {
		t.Fatal(err)
	}
	if s := v.Stats.Snapshot(); s.Errors != 0 {
		t.Errorf("after two 413s the version counts %d errors; want 0", s.Errors)
	}
}
