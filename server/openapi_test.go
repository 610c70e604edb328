package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	oaerrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// docsFeatures is the feature schema of the test models "fraud" and
// "amounts": six columns of one FP32 input, one feature of each type.
const docsFeatures = `[
	{"name": "amount", "type": "number", "min": 0, "max": 10000, "description": "The amount in dollars.", "position": 0},
	{"name": "hour", "type": "integer", "min": 0, "max": 23, "default": 12, "description": "The hour of the day.", "position": 1},
	{"name": "country", "type": "category", "values": ["FR", "DE", "US"], "encoding": "one_hot", "description": "The card's country.", "position": 2},
	{"name": "is_foreign", "type": "bool", "default": false, "position": 5}
]`

// The models of the docs tests over docsFeatures: a binary logistic
// regression and a regressor.
var (
	docsClassifier = &onnx.LogReg{Weights: []float32{0.0004, -0.05, 0.3, -0.2, 0.1, 1.5}, Bias: []float32{-1}}
	docsRegressor  = onnx.RandomMLP(11, onnx.ActivationNone, 6, 4, 1)
)

// serveDocsModels serves a registry of three models: "fraud",
// docsClassifier with the feature schema docsFeatures and class names,
// refusing unknown fields; "amounts", docsRegressor with the same
// features, ignoring unknown fields; and "plain", a model without a
// feature schema.
func serveDocsModels(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	place := func(name string, model *onnx.Model, extra string) {
		b := model.Marshal()
		manifest := strings.TrimSuffix(testenv.Manifest(b), "}") + `, "features": ` + docsFeatures + `, ` + extra + `}`
		testenv.PlaceVersion(t, dir, name, 1, b, manifest)
	}
	place("fraud", docsClassifier.Model(), `"classes": ["legit", "fraud"], "unknown_fields": "reject"`)
	place("amounts", docsRegressor.Model(), `"unknown_fields": "ignore"`)
	testenv.Publish(t, dir, "plain", testMLP.Model())
	return serveRegistry(t, dir, Config{})
}

// openAPIValidator fetches the OpenAPI document at path, checks it
// against the OpenAPI 3.1 specification (libopenapi-validator's
// ValidateDocument, over the specification's own JSON Schema), and
// returns a validator of requests and responses by it and the document
// decoded.
func (ts *testServer) openAPIValidator(t *testing.T, path string) (validator.Validator, map[string]any) {
	t.Helper()
	r := ts.do(t, "GET", path, "")
	if r.status != 200 || r.header.Get("Content-Type") != httpapi.ContentTypeJSON {
		t.Fatalf("GET %s = %d %s %s", path, r.status, r.header.Get("Content-Type"), r.body)
	}
	doc, err := libopenapi.NewDocument(r.body)
	if err != nil {
		t.Fatalf("GET %s: libopenapi cannot read the document: %v", path, err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("GET %s: libopenapi cannot build a model of the document: %v", path, errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		t.Fatalf("GET %s: the document is not valid OpenAPI 3.1:\n%s", path, validationText(verrs))
	}
	var decoded map[string]any
	if err := json.Unmarshal(r.body, &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded["openapi"] != "3.1.0" {
		t.Fatalf("GET %s: openapi = %v, want 3.1.0", path, decoded["openapi"])
	}
	return v, decoded
}

// validationText lists validation errors one per line, with the schema
// failures under each.
func validationText(errs []*oaerrors.ValidationError) string {
	var sb strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&sb, "  %s: %s\n", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&sb, "    at %s (%s): %s\n", f.FieldPath, f.KeywordLocation, f.Reason)
		}
	}
	return sb.String()
}

// describedAnswer sends a request, checks that the document of v
// describes the server's answer, and returns it.
func (ts *testServer) describedAnswer(t *testing.T, v validator.Validator, method, path, body string) response {
	t.Helper()
	r := ts.do(t, method, path, body)
	resp := &http.Response{StatusCode: r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.body))}
	if ok, errs := v.ValidateHttpResponse(jsonRequest(method, path, body), resp); !ok {
		t.Fatalf("%s %s answered %d %s, which the document does not describe:\n%s", method, path, r.status, r.body, validationText(errs))
	}
	return r
}

// jsonRequest returns a request with a JSON body for a validator.
func jsonRequest(method, path, body string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", httpapi.ContentTypeJSON)
	}
	return req
}

// jsonResponse returns a response with a JSON body for a validator.
func jsonResponse(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {httpapi.ContentTypeJSON}},
		Body: io.NopCloser(strings.NewReader(body))}
}

// dig returns the value at keys in decoded JSON, or nil.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// memberNames returns the names of the members of the JSON object at
// keys in the raw document, in the order they appear.
func memberNames(t *testing.T, raw []byte, keys ...string) []string {
	t.Helper()
	for _, k := range keys {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%v: %v", keys, err)
		}
		raw = m[k]
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%v is not an object: %s", keys, raw)
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

func TestModelOpenAPISuccess(t *testing.T) {
	ts := serveDocsModels(t)
	v, doc := ts.openAPIValidator(t, "/v1/models/fraud/openapi.json")
	r := ts.do(t, "GET", "/v1/models/fraud/openapi.json", "")
	if got := r.header.Get("X-Model-Version"); got != "1" {
		t.Fatalf("X-Model-Version = %q, want 1", got)
	}

	// The fields, in the schema's order, with their JSON Schema.
	if got := memberNames(t, r.body, "components", "schemas", "Instance", "properties"); !reflect.DeepEqual(got, []string{"amount", "hour", "country", "is_foreign"}) {
		t.Fatalf("Instance properties in order = %v", got)
	}
	instance := dig(doc, "components", "schemas", "Instance")
	f := func(keys []string, want string) {
		t.Helper()
		got, _ := json.Marshal(dig(instance, keys...))
		if string(got) != want {
			t.Fatalf("Instance %v = %s, want %s", keys, got, want)
		}
	}
	f([]string{"properties", "amount"}, `{"description":"The amount in dollars.","maximum":10000,"minimum":0,"type":"number"}`)
	f([]string{"properties", "hour"}, `{"default":12,"description":"The hour of the day.","maximum":23,"minimum":0,"type":"integer"}`)
	f([]string{"properties", "country"}, `{"description":"The card's country.","enum":["FR","DE","US"],"type":"string"}`)
	f([]string{"properties", "is_foreign"}, `{"default":false,"type":"boolean"}`)
	f([]string{"required"}, `["amount","country"]`)
	f([]string{"additionalProperties"}, `false`)
	prediction, _ := json.Marshal(dig(doc, "components", "schemas", "Prediction"))
	for _, want := range []string{`"enum":["legit","fraud"]`, `"required":["legit","fraud"]`, `"fraud":{"maximum":1,"minimum":0,"type":"number"}`} {
		if !strings.Contains(string(prediction), want) {
			t.Fatalf("Prediction %s lacks %s", prediction, want)
		}
	}

	// The example request is built from the schema and is valid by the
	// document, on both paths.
	example, _ := json.Marshal(dig(doc, "paths", "/v1/models/fraud:predict", "post", "requestBody", "content", httpapi.ContentTypeJSON, "example"))
	if want := `{"instances":[{"amount":0,"country":"FR","hour":12,"is_foreign":false}]}`; string(example) != want {
		t.Fatalf("example request = %s, want %s", example, want)
	}
	for _, path := range []string{"/v1/models/fraud:predict", "/v1/models/fraud/versions/1:predict"} {
		if ok, errs := v.ValidateHttpRequest(jsonRequest("POST", path, string(example))); !ok {
			t.Fatalf("the example request to %s is not valid by the document:\n%s", path, validationText(errs))
		}
	}

	// Every kind of bad record the records API answers with a 422 is
	// invalid by the document too.
	bad := func(instance string) {
		t.Helper()
		if ok, _ := v.ValidateHttpRequest(jsonRequest("POST", "/v1/models/fraud:predict", `{"instances":[`+instance+`]}`)); ok {
			t.Fatalf("instance %s is valid by the document", instance)
		}
	}
	bad(`{"country":"FR"}`)                               // missing
	bad(`{"amount":"12","country":"FR"}`)                 // type
	bad(`{"amount":12,"hour":1.5,"country":"FR"}`)        // type: not whole
	bad(`{"amount":-1,"country":"FR"}`)                   // range
	bad(`{"amount":12,"hour":24,"country":"FR"}`)         // range
	bad(`{"amount":12,"country":"XX"}`)                   // not_allowed
	bad(`{"amount":12,"country":"FR","colour":"red"}`)    // unknown
	bad(`{"amount":12,"country":"FR","is_foreign":"no"}`) // type
	if ok, _ := v.ValidateHttpRequest(jsonRequest("POST", "/v1/models/fraud:predict", `{"records":[]}`)); ok {
		t.Fatal("a request without instances is valid by the document")
	}

	// The 422's example is the server's answer to a bad record: valid by
	// the document, listing the problems the example's comment promises.
	req := jsonRequest("POST", "/v1/models/fraud:predict", string(example))
	invalid, _ := json.Marshal(dig(doc, "components", "responses", "ValidationFailed", "content", httpapi.ContentTypeJSON, "example"))
	if ok, errs := v.ValidateHttpResponse(req, jsonResponse(422, string(invalid))); !ok {
		t.Fatalf("the 422 example %s is not valid by the document:\n%s", invalid, validationText(errs))
	}
	var problems struct {
		Problems []struct{ Field, Problem string }
	}
	if err := json.Unmarshal(invalid, &problems); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(problems.Problems); got != "[{not_a_field unknown} {amount missing}]" {
		t.Fatalf("the 422 example lists %s, want the unknown not_a_field and the missing amount", got)
	}

	// The server's answers to the example and to bad records are valid by
	// the document.
	for _, c := range []struct {
		path, body string
		status     int
	}{
		{"/v1/models/fraud:predict", string(example), 200},
		{"/v1/models/fraud/versions/1:predict", string(example), 200},
		{"/v1/models/fraud:predict", `{"instances":[{"amount":-1,"country":"XX","colour":1},{}]}`, 422},
		{"/v1/models/fraud:predict", `{"instances":[`, 400},
	} {
		if r := ts.describedAnswer(t, v, "POST", c.path, c.body); r.status != c.status {
			t.Fatalf("POST %s %s = %d %s, want %d", c.path, c.body, r.status, r.body, c.status)
		}
	}

	// The answers of the contract are valid by the document.
	for _, a := range []struct {
		status int
		body   string
	}{
		{200, `{"model_name":"fraud","model_version":"1","predictions":[{"label":"fraud","probabilities":{"legit":0.1,"fraud":0.9}}],"prediction_ids":["p1"]}`},
		{422, `{"error":"2 problems in 2 instances","problems":[{"instance":0,"field":"amount","problem":"missing","message":"amount is required"},` +
			`{"instance":1,"field":"country","problem":"not_allowed","message":"country must be one of FR, DE, US"}]}`},
		{400, `{"error":"malformed JSON"}`},
	} {
		if ok, errs := v.ValidateHttpResponse(req, jsonResponse(a.status, a.body)); !ok {
			t.Fatalf("answer %d %s is not valid by the document:\n%s", a.status, a.body, validationText(errs))
		}
	}
	if ok, _ := v.ValidateHttpResponse(req, jsonResponse(200, `{"model_name":"fraud","model_version":"1","predictions":[{"label":"other","probabilities":{}}],"prediction_ids":["p1"]}`)); ok {
		t.Fatal("a prediction of an unknown class is valid by the document")
	}
}

func TestModelOpenAPIRegressorIgnoringUnknownFields(t *testing.T) {
	ts := serveDocsModels(t)
	v, doc := ts.openAPIValidator(t, "/v1/models/amounts/openapi.json")
	if got := dig(doc, "components", "schemas", "Instance", "additionalProperties"); got != nil {
		t.Fatalf("additionalProperties = %v with unknown_fields ignore, want it absent", got)
	}
	if ok, errs := v.ValidateHttpRequest(jsonRequest("POST", "/v1/models/amounts:predict",
		`{"instances":[{"amount":12,"country":"US","colour":"red"}]}`)); !ok {
		t.Fatalf("an unknown field is refused by the document of a model that ignores them:\n%s", validationText(errs))
	}
	req := jsonRequest("POST", "/v1/models/amounts:predict", `{"instances":[{"amount":12,"country":"US"}]}`)
	if ok, errs := v.ValidateHttpResponse(req, jsonResponse(200,
		`{"model_name":"amounts","model_version":"1","predictions":[{"value":12.3}],"prediction_ids":["p1"]}`)); !ok {
		t.Fatalf("a regressor's answer is not valid by the document:\n%s", validationText(errs))
	}
}

// TestOpenAPIValidatorRefusesInvalid makes sure that the validator the
// tests rely on does refuse a document that breaks the specification.
func TestOpenAPIValidatorRefusesInvalid(t *testing.T) {
	ts := serveDocsModels(t)
	good := ts.do(t, "GET", "/v1/models/fraud/openapi.json", "").body
	f := func(old, new string) {
		t.Helper()
		bad := bytes.Replace(good, []byte(old), []byte(new), 1)
		if bytes.Equal(bad, good) {
			t.Fatalf("%s is not in the document", old)
		}
		doc, err := libopenapi.NewDocument(bad)
		if err != nil {
			return // refused already
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			return
		}
		if ok, _ := v.ValidateDocument(); ok {
			t.Fatalf("a document with %s instead of %s is valid", new, old)
		}
	}
	f(`"openapi":"3.1.0"`, `"openapi":"3.1"`)
	f(`"title":"switchyard: model fraud",`, ``)
	f(`"in":"header"`, `"in":"body"`)
	f(`"/v1/models/fraud:predict"`, `"v1/models/fraud:predict"`)
	f(`"description":"One prediction per instance.",`, ``)
}

func TestModelOpenAPIFailure(t *testing.T) {
	ts := serveDocsModels(t)
	f := func(path string, status int, want string) {
		t.Helper()
		r := ts.do(t, "GET", path, "")
		if r.status != status || !strings.Contains(string(r.body), want) {
			t.Fatalf("GET %s = %d %s, want %d with %q", path, r.status, r.body, status, want)
		}
	}
	f("/v1/models/nope/openapi.json", 404, `model \"nope\"`)
	f("/v1/models/plain/openapi.json", 404, "has no feature schema")
	if r := ts.do(t, "POST", "/v1/models/fraud/openapi.json", ""); r.status != 405 {
		t.Fatalf("POST openapi.json = %d, want 405", r.status)
	}
}

// samplePath fills a path template of the server's document with values
// the router accepts.
var samplePath = strings.NewReplacer("{model}", "m", "{version}", "1", "{run_id}", "r1", "{path}", "a/b.txt")

func TestServerOpenAPIRoutes(t *testing.T) {
	ts := serveDocsModels(t)
	_, doc := ts.openAPIValidator(t, "/openapi.json")
	paths, _ := doc["paths"].(map[string]any)
	for tmpl, item := range paths {
		path := samplePath.Replace(tmpl)
		for method := range item.(map[string]any) {
			method = strings.ToUpper(method)
			if _, _, err := ts.router.Match([]byte(method), []byte(path)); err != nil {
				t.Fatalf("%s %s (as %s) is not routed: %v", method, tmpl, path, err)
			}
		}
	}
	for _, a := range ts.router.APIs() {
		for _, e := range a.Endpoints {
			tmpl := strings.ReplaceAll(e.Path, "...}", "}")
			switch item, _ := paths[tmpl].(map[string]any); {
			case e.Op == nil && !strings.HasPrefix(e.Path, "/ajax-api/"):
				t.Errorf("%s %s has no OpenAPI operation", e.Method, e.Path)
			case e.Op != nil && item[strings.ToLower(e.Method)] == nil:
				t.Errorf("%s %s is not in /openapi.json", e.Method, e.Path)
			}
		}
	}
}

// TestServerOpenAPIDescribesAnswers sends real requests and checks both
// them and the server's answers against /openapi.json.
func TestServerOpenAPIDescribesAnswers(t *testing.T) {
	ts := serveDocsModels(t)
	v, _ := ts.openAPIValidator(t, "/openapi.json")
	x := testenv.Rows(1, 2*30)
	infer := requestJSON("input", "FP32", []int64{2, 30}, x)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v2", ""},
		{"GET", "/v2/health/live", ""},
		{"GET", "/v2/health/ready", ""},
		{"GET", "/v2/models/plain", ""},
		{"GET", "/v2/models/plain/versions/1", ""},
		{"GET", "/v2/models/plain/ready", ""},
		{"GET", "/v2/models/nope", ""},
		{"POST", "/v2/models/plain/infer", infer},
		{"POST", "/v2/models/plain/versions/1/infer", infer},
		{"POST", "/v2/models/plain/infer", `{"inputs":[]}`},
		{"POST", "/v2/repository/index", `{"ready":true}`},
		{"GET", "/v1/models/fraud/openapi.json", ""},
		{"GET", "/v1/models/plain/openapi.json", ""},
		{"GET", "/openapi.json", ""},
		{"GET", "/admin/models", ""},
		{"GET", "/admin/models/plain", ""},
		{"GET", "/admin/audit", ""},
		{"GET", "/admin/history", ""},
		{"GET", "/healthz", ""},
		{"GET", "/readyz", ""},
	} {
		if ok, errs := v.ValidateHttpRequest(jsonRequest(c.method, c.path, c.body)); !ok {
			t.Fatalf("%s %s is not valid by /openapi.json:\n%s", c.method, c.path, validationText(errs))
		}
		ts.describedAnswer(t, v, c.method, c.path, c.body)
	}
}
