package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// TestFailingGateNeverAnswers publishes versions that fail their gate
// while clients send requests, to the model and to the new versions by
// number: none of them ever answers, and the stable version answers every
// request that names no version.
func TestFailingGateNeverAnswers(t *testing.T) {
	dir := t.TempDir()
	eval := testenv.EvalSet(3, 20_000) // long enough to gate under load
	publish := func(model []byte) int {
		n, err := modelstore.Publish(dir, "m", model, modelstore.PublishOptions{CreatedBy: "test", EvalCSV: eval, EvalLabel: "label"})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := os.MkdirAll(filepath.Join(dir, "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	policy := "gate:\n  metrics:\n    auc: {min: 0.7, max_regression: 0.01}\n"
	if err := os.WriteFile(filepath.Join(dir, "m", modelstore.PolicyFile), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	publish(testenv.Classifier(4, 2, 0))
	ts := serveRegistry(t, dir, Config{})
	body := requestJSON("input", "FP32", []int64{1, 3}, []float32{0.5, -1, 2})

	stop := make(chan struct{})
	var mu sync.Mutex
	answered := map[string]int{} // path and version -> 200s
	var failures []string
	var wg sync.WaitGroup
	for c := range 6 {
		path := "/v2/models/m/infer"
		if c >= 4 {
			path = fmt.Sprintf("/v2/models/m/versions/%d/infer", c-2) // versions 2 and 3 by number
		}
		wg.Go(func() {
			client := &http.Client{Timeout: waitLimit}
			for range 200_000 {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Post(ts.url+path, "application/json", strings.NewReader(body))
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				var out inferResponse
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				mu.Lock()
				switch {
				case resp.StatusCode == http.StatusOK && err == nil:
					answered[path+" v"+out.ModelVersion]++
				case path == "/v2/models/m/infer":
					failures = append(failures, fmt.Sprintf("status %d from the stable route", resp.StatusCode))
				}
				mu.Unlock()
			}
		})
	}

	// A version worse than stable, then one with constant scores: both fail.
	for _, model := range [][]byte{testenv.Classifier(1.2, 0.2, 1), testenv.Classifier(0, 0, 0)} {
		n := publish(model)
		until(t, fmt.Sprintf("version %d judged", n), func() bool {
			m := ts.store.Model("m")
			return m != nil && len(m.Versions) >= n && m.Versions[n-1].State() == modelstore.Failed
		})
	}
	close(stop)
	wg.Wait()

	t.Logf("answers: %v", answered)
	for _, f := range failures[:min(len(failures), 5)] {
		t.Errorf("failure: %s", f)
	}
	for key, n := range answered {
		if !strings.HasSuffix(key, " v1") {
			t.Errorf("%s answered %d requests; a version that failed its gate must answer none", key, n)
		}
	}
	if answered["/v2/models/m/infer v1"] == 0 {
		t.Fatal("the stable version answered nothing")
	}

	r := ts.do(t, "GET", "/admin/models/m", "")
	var m struct {
		Versions []struct {
			Version int    `json:"version"`
			State   string `json:"state"`
			Reason  string `json:"reason"`
			Gate    *struct {
				Pass    bool     `json:"pass"`
				Stable  string   `json:"stable"`
				Reasons []string `json:"reasons"`
				Metrics []struct {
					Name      string   `json:"name"`
					Candidate *float64 `json:"candidate"`
					Stable    *float64 `json:"stable"`
				} `json:"metrics"`
			} `json:"gate"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(r.body, &m); err != nil || len(m.Versions) != 3 {
		t.Fatalf("GET /admin/models/m = %s (%v)", r.body, err)
	}
	for i, v := range m.Versions {
		g := v.Gate
		if g == nil || g.Pass != (i == 0) || len(g.Reasons) == 0 || len(g.Metrics) == 0 {
			t.Errorf("version %d: gate %+v; want a verdict with reasons and metrics, passing only for version 1", v.Version, g)
			continue
		}
		if i > 0 && (g.Stable != "version 1" || !strings.HasPrefix(v.Reason, "gate: ")) {
			t.Errorf("version %d: judged against %q, reason %q; want version 1 and the verdict", v.Version, g.Stable, v.Reason)
		}
	}
}
