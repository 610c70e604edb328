//go:build !race

package server

import "testing"

// TestRouteAllocs pins that routing a request, inference and admin alike,
// allocates nothing, parameters included.
func TestRouteAllocs(t *testing.T) {
	router := newTestRouter(t)
	f := func(method, path, model string, version int) {
		t.Helper()
		m, p := []byte(method), []byte(path)
		n := testing.AllocsPerRun(100, func() {
			_, params, err := router.Match(m, p)
			if err != nil || string(params.Get("model")) != model || params.Version() != version {
				panic(err)
			}
		})
		if n != 0 {
			t.Errorf("Match(%s %q): %v allocations; want 0", method, path, n)
		}
	}
	f("POST", "/v2/models/fraud/versions/2/infer", "fraud", 2)
	f("POST", "/v2/models/fraud/infer", "fraud", 0)
	f("POST", "/v1/models/fraud:predict", "fraud", 0)
	f("POST", "/v1/models/fraud/versions/12:predict", "fraud", 12)
	f("GET", "/admin/runs/0123456789abcdef", "", 0)
	f("GET", "/admin/models/fraud", "fraud", 0)
	f("POST", "/api/2.0/mlflow/runs/log-batch", "", 0)
}
