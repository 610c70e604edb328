package server

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// The tokens of the access tests.
const (
	writeSecret = "write-secret-0123456789"
	readSecret  = "read-secret-0123456789"
)

// testPolicy guards the classes given with a write token "ci" and a read
// token "grafana".
func testPolicy(t *testing.T, guarded ...access.Class) *access.Policy {
	t.Helper()
	tokens, err := access.ParseTokens([]byte("ci write "+writeSecret+"\ngrafana read "+readSecret+"\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := access.NewPolicy(tokens, guarded...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// call sends a request with a JSON body and the Authorization header auth
// (none when empty); any goroutine may call it.
func (ts *testServer) call(method, path, contentType, body, auth string) (response, error) {
	req, err := http.NewRequest(method, ts.url+path, strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return ts.send(req)
}

// params fills a pattern's parameters with the names of the test models.
var params = regexp.MustCompile(`\{(\w+)(\.\.\.)?\}`)

// writeEndpoints returns a concrete path for every write endpoint of the
// server's tables, with its method.
func writeEndpoints(ts *testServer) [][2]string {
	var out [][2]string
	for _, api := range ts.router.APIs() {
		for _, e := range api.Endpoints {
			if e.Access != httpapi.Write {
				continue
			}
			path := params.ReplaceAllStringFunc(e.Path, func(p string) string {
				switch p {
				case "{model}":
					return "mlp"
				case "{version}":
					return "1"
				}
				return "x"
			})
			out = append(out, [2]string{e.Method, path})
		}
	}
	return out
}

// TestEveryWriteNeedsAToken sends every write endpoint of every table the
// request an attacker on the network would (issue 23, defect 1): without a
// token, with a wrong one and with a read-only one. Each is refused (401,
// 401, 403) and nothing changes: the models still serve. Inference, reads
// and the health checks stay open.
func TestEveryWriteNeedsAToken(t *testing.T) {
	ts := startServer(t, Config{Access: testPolicy(t, access.Write)})
	writes := writeEndpoints(ts)
	if len(writes) < 20 {
		t.Fatalf("found %d write endpoints; the tables hold more", len(writes))
	}
	for _, w := range writes {
		for _, c := range []struct {
			auth   string
			status int
		}{{"", 401}, {"Bearer nope", 401}, {"Bearer " + readSecret, 403}} {
			r, err := ts.call(w[0], w[1], "application/json", `{"reason":"probe","name":"mlp","version":"1","source":"/etc/passwd"}`, c.auth)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != c.status {
				t.Errorf("%s %s with Authorization %q = %d %s; want %d", w[0], w[1], c.auth, r.status, r.body, c.status)
			}
			if strings.Contains(string(r.body), writeSecret) || strings.Contains(string(r.body), readSecret) {
				t.Errorf("%s %s: the answer shows a secret: %s", w[0], w[1], r.body)
			}
		}
	}
	for _, model := range []string{"mlp", "forest", "typed", "fixed"} {
		if r := ts.do(t, "GET", "/v2/models/"+model+"/ready", ""); r.status != 200 {
			t.Errorf("after the probes, %s is not ready: %d %s", model, r.status, r.body)
		}
	}
	// The probe's command, and its MLflow form: 401 with a challenge.
	r := ts.do(t, "POST", "/v2/repository/models/mlp/unload", "")
	if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("unload without a token = %d %v %s; want 401 with a Bearer challenge", r.status, r.header, r.body)
	}
	if r, _ := ts.call("DELETE", "/api/2.0/mlflow/registered-models/delete", "application/json", `{"name":"mlp"}`, ""); r.status != 401 ||
		!strings.Contains(string(r.body), `"error_code":"UNAUTHENTICATED"`) {
		t.Errorf("MLflow delete without a token = %d %s; want 401 UNAUTHENTICATED", r.status, r.body)
	}
	for _, open := range []string{"/v2/health/ready", "/v2/models/mlp", "/admin/models", "/metrics"} {
		if r := ts.do(t, "GET", open, ""); r.status != 200 {
			t.Errorf("GET %s without a token = %d; want 200 (only writes are guarded)", open, r.status)
		}
	}
	// A write token may write; the unload then takes effect.
	if r, _ := ts.call("POST", "/v2/repository/models/typed/unload", "", "", "Bearer "+writeSecret); r.status != 200 {
		t.Errorf("unload with the write token = %d %s", r.status, r.body)
	}
}

// TestGuardedReads guards inference and reads too: each needs a token,
// which a read token satisfies, while the health checks a load balancer
// probes and the metrics stay open.
func TestGuardedReads(t *testing.T) {
	ts := startServer(t, Config{Access: testPolicy(t, access.Infer, access.Read, access.Write)})
	body := `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"data":[1,2]}]}`
	for _, c := range []struct {
		method, path, body string
	}{{"POST", "/v2/models/typed/infer", body}, {"GET", "/v2/models/mlp", ""}, {"GET", "/admin/models", ""}, {"GET", "/openapi.json", ""}} {
		if r, _ := ts.call(c.method, c.path, "application/json", c.body, ""); r.status != 401 {
			t.Errorf("%s %s without a token = %d; want 401", c.method, c.path, r.status)
		}
		if r, _ := ts.call(c.method, c.path, "application/json", c.body, "Bearer "+readSecret); r.status == 401 || r.status == 403 {
			t.Errorf("%s %s with the read token = %d %s", c.method, c.path, r.status, r.body)
		}
	}
	for _, path := range []string{"/v2/health/live", "/v2/health/ready", "/healthz", "/readyz", "/metrics"} {
		if r := ts.do(t, "GET", path, ""); r.status != 200 {
			t.Errorf("GET %s without a token = %d; want 200 (probes stay open)", path, r.status)
		}
	}
}

// TestWritesTakeJSONOnly posts forms, text and JSON without a type to the
// writes a web page could trigger cross-site (issue 23): each gets 415
// and the model still serves. An empty body without a type is a write
// with no parameters.
func TestWritesTakeJSONOnly(t *testing.T) {
	ts := startServer(t, Config{})
	for _, c := range []struct{ contentType, body string }{
		{"application/x-www-form-urlencoded", "a=b"},
		{"application/x-www-form-urlencoded", ""},
		{"multipart/form-data; boundary=x", "--x--"},
		{"text/plain", `{}`},
		{"", `{}`},
	} {
		for _, path := range []string{"/v2/repository/models/mlp/unload", "/admin/models/mlp/rollback", "/api/2.0/mlflow/registered-models/create"} {
			r, err := ts.call("POST", path, c.contentType, c.body, "")
			if err != nil {
				t.Fatal(err)
			}
			if r.status != http.StatusUnsupportedMediaType {
				t.Errorf("POST %s as %q = %d %s; want 415", path, c.contentType, r.status, r.body)
			}
		}
	}
	if r := ts.do(t, "GET", "/v2/models/mlp/ready", ""); r.status != 200 {
		t.Fatalf("after the form posts mlp is not ready: %d %s", r.status, r.body)
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "application/vnd.switchyard+json"} {
		if r, _ := ts.call("POST", "/v2/repository/models/mlp/load", ct, `{}`, ""); r.status != 200 {
			t.Errorf("load as %q = %d %s; want 200", ct, r.status, r.body)
		}
	}
	if r, _ := ts.call("POST", "/v2/repository/models/mlp/load", "", "", ""); r.status != 200 {
		t.Errorf("load with no body = %d %s; want 200", r.status, r.body)
	}
}
