package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/natstest"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// TestStreamTwoReplicas serves one registry from two replicas, each
// with its own data directory, on one real nats-server: a prediction
// answered by A is found by B, which takes its label; A joins it (first
// label wins); live quality on both counts it; and with nats-server
// stopped both still answer, A counts what it could not publish, and
// feedback, committed locally, answers 503 until the stream takes it.
func TestStreamTwoReplicas(t *testing.T) {
	nats := natstest.Start(t)
	reg := t.TempDir()
	w := []float32{0.01, 0.1, -1, 0.5, -0.5, 0.2, 1}
	if _, err := modelstore.Publish(reg, "fraud", (&onnx.LogReg{Weights: w, Bias: []float32{0}}).Model().Marshal(), modelstore.PublishOptions{
		CreatedBy: "test", Features: loopFeatures(), Classes: []string{"legit", "fraud"}}); err != nil {
		t.Fatal(err)
	}
	serve := func(name string) string {
		addr, stop := startServe(t, "--registry", reg, "--data-dir", filepath.Join(t.TempDir(), name), "--stream", nats.URL(), "--drain-delay", "0")
		t.Cleanup(func() {
			if err := stop(); err != nil {
				t.Errorf("replica %s: %v", name, err)
			}
		})
		return addr
	}
	a, b := serve("a"), serve("b")
	ids := predictOn(t, a, 4)

	// Feedback to B for A's prediction: accepted once B has it.
	eventuallyHTTP(t, "B takes the label of A's prediction", func() (bool, string) {
		status, body := post(t, b, "/v1/feedback", fmt.Sprintf(`{"prediction_id": %q, "label": "fraud"}`, ids[0]))
		return status == 200 && strings.Contains(body, `"accepted":1`), fmt.Sprint(status, body)
	})
	// A joins it: a different label there is a conflict, the first kept.
	eventuallyHTTP(t, "A applies B's label", func() (bool, string) {
		v := metric(t, a, `switchyard_stream_applied_total{kind="labels"}`)
		return v == 1, fmt.Sprint(v)
	})
	status, body := post(t, a, "/v1/feedback", fmt.Sprintf(`{"prediction_id": %q, "label": "legit"}`, ids[0]))
	if status != 207 || !strings.Contains(body, `"conflict"`) || !strings.Contains(body, `label \"fraud\"`) {
		t.Errorf("feedback on A after B's = %d %s; want a conflict keeping B's label", status, body)
	}
	// Live quality on both counts the one label.
	for _, addr := range []string{a, b} {
		eventuallyHTTP(t, "live quality on "+addr+" counts the label", func() (bool, string) {
			var m loopModel
			if err := getJSON(http.DefaultClient, "http://"+addr+"/admin/models/fraud", &m); err != nil {
				return false, err.Error()
			}
			q := m.version(1).Quality
			return q != nil && q.Labelled == 1, fmt.Sprintf("%+v", q)
		})
	}

	// nats-server stops: both replicas answer, and A counts the batches
	// it could not publish (after the ack timeout, 5 s).
	nats.Stop()
	more := predictOn(t, a, 2)
	predictOn(t, b, 2)
	eventuallyHTTP(t, "A counts its unpublished predictions", func() (bool, string) {
		v := metric(t, a, "switchyard_stream_dropped_total")
		return v >= 2, fmt.Sprint(v)
	})
	// A's own log still has them: feedback commits locally, and answers
	// 503 since the fleet's stream does not take the label.
	eventuallyHTTP(t, "A commits a label locally and says the stream did not take it", func() (bool, string) {
		status, body := post(t, a, "/v1/feedback", fmt.Sprintf(`{"prediction_id": %q, "label": "legit"}`, more[0]))
		return status == 503 && strings.Contains(body, "saved on this replica"), fmt.Sprint(status, body)
	})
	// The server is back: the client's retry (a duplicate on A) is
	// published, and B joins it although it never got the prediction.
	nats.Restart()
	eventuallyHTTP(t, "A's retry is shared", func() (bool, string) {
		status, body := post(t, a, "/v1/feedback", fmt.Sprintf(`{"prediction_id": %q, "label": "legit"}`, more[0]))
		return status == 200 && strings.Contains(body, `"duplicate"`), fmt.Sprint(status, body)
	})
	eventuallyHTTP(t, "B joins the retried label", func() (bool, string) {
		v := metric(t, b, `switchyard_stream_applied_total{kind="labels"}`)
		return v == 1, fmt.Sprint(v)
	})
}

// predictOn sends n records to the replica at addr and returns their
// prediction ids.
func predictOn(t *testing.T, addr string, n int) []string {
	t.Helper()
	instances := make([]map[string]any, n)
	for i := range instances {
		instances[i] = loopRecord(i)
	}
	body, _ := json.Marshal(map[string]any{"instances": instances})
	status, out := post(t, addr, "/v1/models/fraud:predict", string(body))
	var ans struct {
		PredictionIDs []string `json:"prediction_ids"`
	}
	if err := json.Unmarshal([]byte(out), &ans); err != nil || status != 200 || len(ans.PredictionIDs) != n {
		t.Fatalf("predict on %s = %d %s", addr, status, out)
	}
	return ans.PredictionIDs
}

func post(t *testing.T, addr, path, body string) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+addr+path, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// metric returns the value of the sample series (a name with its
// labels, as /metrics writes it) on the replica at addr, 0 when absent.
func metric(t *testing.T, addr, series string) float64 {
	t.Helper()
	return sampleValue(scrape(t, addr), series)
}

// eventuallyHTTP waits up to 30 s for cond, which reports what it saw.
func eventuallyHTTP(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var saw string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var ok bool
		if ok, saw = cond(); ok {
			return
		}
	}
	t.Fatalf("%s: never; last saw %s", what, saw)
}
