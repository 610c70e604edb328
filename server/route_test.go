package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/server/admin"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/server/mlflow"
)

// newTestRouter returns the router of a server's tables, with handlers
// that must not be called.
func newTestRouter(t testing.TB) *httpapi.Router {
	t.Helper()
	s := &Server{}
	r, err := httpapi.NewRouter(s.api(), admin.New(admin.Config{}).API(), mlflow.New(mlflow.Config{}).API())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRoute(t *testing.T) {
	router := newTestRouter(t)
	f := func(method, path, pattern, model string, version int) {
		t.Helper()
		e, p, err := router.Match([]byte(method), []byte(path))
		if err != nil || e.Path != pattern || string(p.Get("model")) != model || p.Version() != version {
			t.Errorf("Match(%s %q) = %v, model %q, version %d, %v; want %s, model %q, version %d",
				method, path, e, p.Get("model"), p.Version(), err, pattern, model, version)
		}
	}
	f("POST", "/v2/models/m/infer", "/v2/models/{model}/infer", "m", 0)
	f("POST", "/v2/models/m/versions/3/infer", "/v2/models/{model}/versions/{version}/infer", "m", 3)
	f("POST", "//v2//models/m/versions/3/infer", "/v2/models/{model}/versions/{version}/infer", "m", 3)
	f("GET", "/v2/health/ready", "/v2/health/ready", "", 0)
	f("GET", "/v2/", "/v2", "", 0)
	f("GET", "/v2/models/versions", "/v2/models/{model}", "versions", 0)
	f("POST", "/v1/models/m:predict", "/v1/models/{model}:predict", "m", 0)
	f("POST", "/v1/models/m/versions/7:predict", "/v1/models/{model}/versions/{version}:predict", "m", 7)
	f("GET", "/v1/models/m:predict/openapi.json", "/v1/models/{model}/openapi.json", "m:predict", 0)
	f("GET", "/admin/models", "/admin/models", "", 0)
	f("GET", "/admin/models/fraud", "/admin/models/{model}", "fraud", 0)
	f("POST", "/admin/models/fraud/promote", "/admin/models/{model}/promote", "fraud", 0)
	f("GET", "/admin/audit", "/admin/audit", "", 0)
	f("GET", "/admin/history", "/admin/history", "", 0)
	f("GET", "/", "/", "", 0)
	f("GET", "/admin/runs", "/admin/runs", "", 0)
	f("GET", "/admin/runs/abc123", "/admin/runs/{run_id}", "", 0)
	f("GET", "/ajax-api/2.0/mlflow/runs/get", "/ajax-api/2.0/mlflow/runs/get", "", 0)
	f("PUT", "/api/2.0/mlflow-artifacts/artifacts/0/a/b/c/d/e/f/g/h/i/model.onnx", "/api/2.0/mlflow-artifacts/artifacts/{path...}", "", 0)
	if _, p, _ := router.Match([]byte("GET"), []byte("/admin/runs/abc123")); string(p.Get("run_id")) != "abc123" {
		t.Errorf("GET /admin/runs/abc123: run_id %q", p.Get("run_id"))
	}

	refused := func(method, path string, want error, msg string) {
		t.Helper()
		e, _, err := router.Match([]byte(method), []byte(path))
		if !errors.Is(err, want) && !errors.As(err, new(*httpapi.MethodError)) || err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Match(%s %q) = %v, %v; want an error with %q", method, path, e, err, msg)
		}
	}
	for _, path := range []string{"/admin", "/admin/", "/admin/models/m/x", "/admin/runs/a/b", "/administrator/models", "/v2/admin/models",
		"/v2/models/m/versions", "/v1/models/:predict", "/v1/models/m/versions/1", "/a/b/c/d/e/f/g/h/i"} {
		refused("GET", path, httpapi.ErrNoRoute, "no such endpoint")
	}
	for _, v := range []string{"0", "01", "-1", "abc", "99999999999999999999"} {
		refused("POST", "/v2/models/m/versions/"+v+"/infer", httpapi.ErrNoRoute, `version "`+v+`" is not a positive integer`)
		refused("POST", "/v1/models/m/versions/"+v+":predict", httpapi.ErrNoRoute, `version "`+v+`" is not a positive integer`)
	}
	refused("GET", "/v2/models/m/infer", nil, "use POST")
	refused("PUT", "/api/2.0/mlflow/registered-models/alias", nil, "use POST or GET or DELETE")
}
