package server

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// recordsFraud is the records tests' classifier: a logistic regression
// over the six columns of recFraudFeatures.
var recordsFraud = &onnx.LogReg{Weights: []float32{0.02, -0.1, 0.5, -0.3, 0.1, 1.2}, Bias: []float32{-0.5}}

// recFraudFeatures feed recordsFraud's input: amount, hour, country one-hot
// over three columns, then is_foreign, which defaults to false.
func recFraudFeatures() []modelstore.Feature {
	return []modelstore.Feature{
		{Name: "amount", Type: modelstore.TypeNumber, Min: ptr(0.0), Position: 0},
		{Name: "hour", Type: modelstore.TypeInteger, Min: ptr(0.0), Max: ptr(23.0), Position: 1},
		{Name: "country", Type: modelstore.TypeCategory, Values: []string{"FR", "DE", "US"}, Encoding: modelstore.EncodeOneHot, Position: 2},
		{Name: "is_foreign", Type: modelstore.TypeBool, Default: false, Position: 5},
	}
}

// recordsRegressor is an MLP with one output per row: a regressor.
var recordsRegressor = onnx.RandomMLP(7, onnx.ActivationNone, 3, 4, 1)

// recMixedModel is a model of recMixedSig's inputs whose output [N,10] is its
// inputs, every one cast to FP32 and concatenated: x's six columns, then
// merchant, count, ratio and flag. It shows exactly what the records API
// fed each input.
func recMixedModel() *onnx.Model {
	n := onnx.DimParam(onnx.Batch)
	info := func(name string, t onnx.DataType, shape ...onnx.Dim) onnx.ValueInfo {
		return onnx.ValueInfo{Name: name, Type: t, Shape: shape}
	}
	node := func(op string, in, out []string, attrs ...onnx.Attr) onnx.Node {
		return onnx.Node{OpType: op, Inputs: in, Outputs: out, Attrs: attrs}
	}
	toFloat := onnx.IntAttr("to", int64(onnx.Float))
	return &onnx.Model{Graph: onnx.Graph{
		Name: "mixed",
		Inputs: []onnx.ValueInfo{
			info("x", onnx.Float, n, onnx.DimValue(6)),
			info("merchant", onnx.Int64, n),
			info("count", onnx.Int32, n, onnx.DimValue(1)),
			info("ratio", onnx.Double, n),
			info("flag", onnx.Bool, n),
		},
		Outputs:      []onnx.ValueInfo{info("out", onnx.Float, n, onnx.DimValue(10))},
		Initializers: []onnx.Tensor{onnx.Int64Tensor("axis1", []int64{1}, []int64{1})},
		Nodes: []onnx.Node{
			node("Unsqueeze", []string{"merchant", "axis1"}, []string{"m2"}),
			node("Cast", []string{"m2"}, []string{"mf"}, toFloat),
			node("Cast", []string{"count"}, []string{"cf"}, toFloat),
			node("Unsqueeze", []string{"ratio", "axis1"}, []string{"r2"}),
			node("Cast", []string{"r2"}, []string{"rf"}, toFloat),
			node("Unsqueeze", []string{"flag", "axis1"}, []string{"f2"}),
			node("Cast", []string{"f2"}, []string{"ff"}, toFloat),
			node("Concat", []string{"x", "mf", "cf", "rf", "ff"}, []string{"out"}, onnx.IntAttr("axis", 1)),
		},
	}}
}

// recMixedClasses names recMixedModel's output columns.
var recMixedClasses = []string{"amount", "hour", "FR", "DE", "US", "is_foreign", "merchant", "count", "ratio", "flag"}

// startRecordsServer serves a registry of the records tests' models:
// fraud and fraud_lax (unknown fields ignored) with recordsFraud, mixed,
// regressor, and plain, recordsFraud with no feature schema.
func startRecordsServer(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	publish := func(name string, m *onnx.Model, opts modelstore.PublishOptions) {
		t.Helper()
		opts.CreatedBy = "test"
		if _, err := modelstore.Publish(dir, name, m.Marshal(), opts); err != nil {
			t.Fatalf("publish %s: %v", name, err)
		}
	}
	classes := []string{"legit", "fraud"}
	publish("fraud", recordsFraud.Model(), modelstore.PublishOptions{Features: recFraudFeatures(), Classes: classes})
	publish("fraud_lax", recordsFraud.Model(), modelstore.PublishOptions{Features: recFraudFeatures(), Classes: classes,
		UnknownFields: modelstore.UnknownIgnore})
	publish("mixed", recMixedModel(), modelstore.PublishOptions{Features: recMixedFeatures(), Classes: recMixedClasses})
	publish("regressor", recordsRegressor.Model(), modelstore.PublishOptions{Features: []modelstore.Feature{
		{Name: "a", Type: modelstore.TypeNumber, Position: 0},
		{Name: "b", Type: modelstore.TypeNumber, Position: 1},
		{Name: "c", Type: modelstore.TypeNumber, Position: 2},
	}})
	publish("plain", recordsFraud.Model(), modelstore.PublishOptions{})
	return serveRegistry(t, dir, Config{})
}

// recPredictResponse is the records answer as a client decodes it.
type recPredictResponse struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	Predictions  []struct {
		Label         string             `json:"label"`
		Probabilities map[string]float64 `json:"probabilities"`
		Value         *float64           `json:"value"`
	} `json:"predictions"`
	PredictionIDs []string `json:"prediction_ids"`
}

// predict posts a records request, which must succeed, and decodes the
// answer.
func (ts *testServer) predict(t *testing.T, path, body string) recPredictResponse {
	t.Helper()
	r := ts.do(t, "POST", path, body)
	if r.status != 200 {
		t.Fatalf("POST %s %s = %d %s", path, body, r.status, r.body)
	}
	if r.header.Get("Content-Type") != "application/json" || r.header.Get("X-Model-Version") == "" {
		t.Fatalf("POST %s: headers %v lack the JSON content type or X-Model-Version", path, r.header)
	}
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.DisallowUnknownFields()
	var out recPredictResponse
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("POST %s: %v in %s", path, err, r.body)
	}
	if out.ModelVersion != r.header.Get("X-Model-Version") || len(out.PredictionIDs) != len(out.Predictions) {
		t.Fatalf("POST %s: answer %s with X-Model-Version %q", path, r.body, r.header.Get("X-Model-Version"))
	}
	return out
}

// predictionIDPattern is what every prediction id looks like.
var predictionIDPattern = regexp.MustCompile(`^[0-9a-f]{16}-[0-9a-f]{16}$`)

// v2PredictionID returns parameters.prediction_id of a V2 answer.
func v2PredictionID(t *testing.T, body []byte) string {
	t.Helper()
	var a struct {
		Parameters struct {
			PredictionID string `json:"prediction_id"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(body, &a); err != nil || !predictionIDPattern.MatchString(a.Parameters.PredictionID) {
		t.Fatalf("V2 answer %s: prediction id %q, %v", body, a.Parameters.PredictionID, err)
	}
	return a.Parameters.PredictionID
}

// TestRecordsMatchV2 sends the same inputs as records and as V2 and
// checks the answers agree to the last bit, and with the reference.
func TestRecordsMatchV2(t *testing.T) {
	ts := startRecordsServer(t)
	const body = `{"instances":[
		{"amount":12.5,"hour":3,"country":"FR","is_foreign":true},
		{"amount":250,"hour":23,"country":"US"},
		{"country":"DE","hour":0,"amount":0.1,"is_foreign":false}]}`
	x := []float32{
		12.5, 3, 1, 0, 0, 1,
		250, 23, 0, 0, 1, 0,
		0.1, 0, 0, 1, 0, 0}
	v2 := ts.infer(t, "/v2/models/fraud/infer", requestJSON("input", "FP32", []int64{3, 6}, x))
	labels, probs := v2.Outputs[0].Data, v2.Outputs[1].Data
	_, ref := recordsFraud.Predict(x)
	for _, path := range []string{"/v1/models/fraud:predict", "/v1/models/fraud/versions/1:predict"} {
		got := ts.predict(t, path, body)
		if got.ModelName != "fraud" || got.ModelVersion != "1" || len(got.Predictions) != 3 {
			t.Fatalf("POST %s = %+v", path, got)
		}
		for i, p := range got.Predictions {
			want := map[string]float64{"legit": probs[2*i], "fraud": probs[2*i+1]}
			if fmt.Sprint(p.Probabilities) != fmt.Sprint(want) || p.Value != nil {
				t.Errorf("POST %s: instance %d probabilities %v; V2 gives %v", path, i, p.Probabilities, want)
			}
			if wantLabel := []string{"legit", "fraud"}[int(labels[i])]; p.Label != wantLabel {
				t.Errorf("POST %s: instance %d label %q; the model's label output says %q", path, i, p.Label, wantLabel)
			}
			within(t, "records vs reference", []float64{p.Probabilities["legit"], p.Probabilities["fraud"]}, ref[2*i:2*i+2], 1e-6)
		}
	}

	// A regressor answers values.
	rx := []float32{0.5, -1, 2, 3, 0.25, -0.125}
	rv2 := ts.infer(t, "/v2/models/regressor/infer", requestJSON("input", "FP32", []int64{2, 3}, rx))
	got := ts.predict(t, "/v1/models/regressor:predict", `{"instances":[{"a":0.5,"b":-1,"c":2},{"a":3,"b":0.25,"c":-0.125}]}`)
	for i, p := range got.Predictions {
		if p.Value == nil || *p.Value != rv2.Outputs[0].Data[i] || p.Label != "" || p.Probabilities != nil {
			t.Errorf("regressor instance %d = %+v; V2 gives value %v", i, p, rv2.Outputs[0].Data[i])
		}
	}
}

// TestRecordsInputs checks what reaches each input of a model with
// several, of every element type features feed, including one-hot
// columns and defaults.
func TestRecordsInputs(t *testing.T) {
	ts := startRecordsServer(t)
	got := ts.predict(t, "/v1/models/mixed:predict", `{"instances":[
		{"amount":12.5,"hour":7,"country":"DE","is_foreign":true,"merchant":"games","count":-3,"ratio":0.5,"flag":false},
		{"amount":1,"hour":0,"country":"US","count":2147483647}]}`)
	want := [][]float64{
		{12.5, 7, 0, 1, 0, 1, 2, -3, 0.5, 0},
		{1, 0, 0, 0, 1, 0, 1, 2147483647, 0.25, 1}, // defaults: is_foreign false, merchant travel, ratio 0.25, flag true
	}
	for i, p := range got.Predictions {
		for j, class := range recMixedClasses {
			if float32(p.Probabilities[class]) != float32(want[i][j]) { // FP32 written as its shortest text
				t.Errorf("instance %d: %s reached the model as %v; want %v", i, class, p.Probabilities[class], want[i][j])
			}
		}
	}
}

// TestRecordsBadRequests sends each kind of bad records request, checks
// its status and body, and that the server answers a good request the
// same afterwards.
func TestRecordsBadRequests(t *testing.T) {
	ts := startRecordsServer(t)
	const good = `{"instances":[{"amount":12.5,"hour":3,"country":"FR"}]}`
	first := ts.predict(t, "/v1/models/fraud:predict", good)
	f := func(path, body string, status int, want string) {
		t.Helper()
		r := ts.do(t, "POST", path, body)
		if r.status != status || !strings.Contains(string(r.body), want) || !json.Valid(r.body) {
			t.Errorf("POST %s %.80s = %d %s; want %d with %s", path, body, r.status, r.body, status, want)
		}
		if status == 422 && r.header.Get("X-Model-Version") != "1" {
			t.Errorf("POST %s %.80s: 422 without X-Model-Version", path, body)
		}
		again := ts.predict(t, "/v1/models/fraud:predict", good)
		if fmt.Sprint(again.Predictions) != fmt.Sprint(first.Predictions) {
			t.Errorf("after POST %s %.80s the good request gets %+v; want %+v", path, body, again.Predictions, first.Predictions)
		}
	}
	const fraud = "/v1/models/fraud:predict"
	// The example, whole.
	f(fraud, `{"instances": [{"hour": 1, "country": "FR"}, {"amount": 3, "hour": 1, "country": "XX"}]}`, 422,
		`{"error":"2 problems in 2 instances","problems":[`+
			`{"instance":0,"field":"amount","problem":"missing","message":"amount is required"},`+
			`{"instance":1,"field":"country","problem":"not_allowed","message":"country \"XX\" is not one of FR, DE, US"}]}`)
	// Every kind at once, in three instances of four.
	f(fraud, `{"instances":[{"amount":-1,"hour":2.5,"country":"FR","is_foreign":1},{"amount":1,"hour":1,"country":"FR"},`+
		`{"amount":NaN,"hour":1,"country":"FR","colour":"red"},{"amount":"7","hour":24,"country":"XX"}]}`, 422,
		`{"error":"8 problems in 3 instances","problems":[`+
			`{"instance":0,"field":"amount","problem":"range","message":"amount -1 is below the minimum 0"},`+
			`{"instance":0,"field":"hour","problem":"type","message":"hour must be a whole number, not 2.5"},`+
			`{"instance":0,"field":"is_foreign","problem":"type","message":"is_foreign must be true or false, not 1"},`+
			`{"instance":2,"field":"amount","problem":"not_finite","message":"amount NaN is not a finite number"},`+
			`{"instance":2,"field":"colour","problem":"unknown","message":"colour is not a field of this model"},`+
			`{"instance":3,"field":"amount","problem":"type","message":"amount must be a number, not \"7\""},`+
			`{"instance":3,"field":"hour","problem":"range","message":"hour 24 is above the maximum 23"},`+
			`{"instance":3,"field":"country","problem":"not_allowed","message":"country \"XX\" is not one of FR, DE, US"}]}`)
	f(fraud, `{"instances":[`, 400, `{"error":"malformed JSON`)
	f(fraud, `{"inputs":[]}`, 400, `unknown member \"inputs\"`)
	f(fraud, `{"instances":[]}`, 400, `must not be empty`)
	f(fraud, `{"instances":[1]}`, 400, `instances[0] must be an object, not number`)
	f(fraud, `{"instances":[{"amount":1,"amount":2}]}`, 400, `field \"amount\" appears more than once`)
	f("/v1/models/plain:predict", good, 404, `model \"plain\" version 1 has no feature schema`)
	f("/v1/models/nope:predict", good, 404, `\"nope\"`)
	f("/v1/models/fraud/versions/9:predict", good, 404, "version 9")
	f("/v1/models/fraud/versions/01:predict", good, 404, `\"01\"`)
	f("/v1/models/fraud:explain", good, 404, "no such endpoint")
	r := ts.do(t, "GET", fraud, "")
	if r.status != 405 {
		t.Errorf("GET %s = %d %s; want 405", fraud, r.status, r.body)
	}

	// Unknown fields are refused by default and dropped by fraud_lax.
	lax := ts.predict(t, "/v1/models/fraud_lax:predict", `{"instances":[{"amount":12.5,"colour":"red","hour":3,"country":"FR","notes":{"a":[1]}}]}`)
	if fmt.Sprint(lax.Predictions) != fmt.Sprint(first.Predictions) {
		t.Errorf("fraud_lax with unknown fields = %+v; want %+v", lax.Predictions, first.Predictions)
	}
	// A default is the value it stands for.
	explicit := ts.predict(t, fraud, `{"instances":[{"amount":12.5,"hour":3,"country":"FR","is_foreign":false}]}`)
	if fmt.Sprint(explicit.Predictions) != fmt.Sprint(first.Predictions) {
		t.Errorf("is_foreign false = %+v; absent (default false) = %+v", explicit.Predictions, first.Predictions)
	}
}

// TestRecordsAccounting checks that records requests are counted as V2
// requests are: the request metrics by status and the rollout statistics
// of the version, which count neither client errors nor 404s.
func TestRecordsAccounting(t *testing.T) {
	ts := startRecordsServer(t)
	v, err := ts.store.Lookup("fraud", 0)
	if err != nil {
		t.Fatal(err)
	}
	before := v.Stats.Snapshot()
	for range 3 {
		ts.predict(t, "/v1/models/fraud:predict", `{"instances":[{"amount":1,"hour":1,"country":"FR"},{"amount":2,"hour":2,"country":"DE"}]}`)
	}
	ts.do(t, "POST", "/v1/models/fraud:predict", `{"instances":[{}]}`)
	if got := v.Stats.Snapshot().Sub(before); got.Requests != 3 || got.Errors != 0 {
		t.Errorf("rollout statistics after 3 good records requests and a bad one: %d requests, %d errors; want 3, 0",
			got.Requests, got.Errors)
	}
	m := ts.do(t, "GET", "/metrics", "")
	for _, want := range []string{
		`switchyard_requests_total{model="fraud",status="200",version="1"} 3`,
		`switchyard_requests_total{model="fraud",status="422",version="1"} 1`,
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestPredictionIDsUnique sends records and V2 requests from several
// goroutines at once and checks every prediction id is well formed and
// appears once.
func TestPredictionIDsUnique(t *testing.T) {
	ts := startRecordsServer(t)
	v2 := requestJSON("input", "FP32", []int64{1, 6}, testenv.Rows(3, 6))
	const workers, each = 8, 25
	ids := make(chan string, workers*each*3)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := range each {
				if (w+k)%2 == 0 {
					r, err := ts.try("POST", "/v2/models/fraud/infer", v2)
					if err != nil {
						t.Error(err)
						return
					}
					var a struct {
						Parameters struct {
							PredictionID string `json:"prediction_id"`
						} `json:"parameters"`
					}
					if err := json.Unmarshal(r.body, &a); r.status != 200 || err != nil {
						t.Errorf("V2 = %d %s", r.status, r.body)
						return
					}
					ids <- a.Parameters.PredictionID
					continue
				}
				r, err := ts.try("POST", "/v1/models/fraud:predict", `{"instances":[{"amount":1,"hour":1,"country":"FR"},{"amount":2,"hour":2,"country":"DE"}]}`)
				if err != nil {
					t.Error(err)
					return
				}
				var a recPredictResponse
				if err := json.Unmarshal(r.body, &a); r.status != 200 || err != nil || len(a.PredictionIDs) != 2 {
					t.Errorf("records = %d %s", r.status, r.body)
					return
				}
				for _, id := range a.PredictionIDs {
					ids <- id
				}
			}
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	prefix := ""
	for id := range ids {
		if !predictionIDPattern.MatchString(id) || seen[id] {
			t.Fatalf("prediction id %q: malformed or seen before", id)
		}
		seen[id] = true
		if prefix == "" {
			prefix = id[:16]
		}
		if id[:16] != prefix {
			t.Fatalf("prediction ids %q and %q of one server have different prefixes", prefix, id)
		}
	}
	if len(seen) < workers*each {
		t.Fatalf("%d prediction ids; want at least %d", len(seen), workers*each)
	}
	r := ts.do(t, "POST", "/v2/models/fraud/infer", v2)
	v2PredictionID(t, r.body)
}

// TestPredictionIDsFormat pins the text of an id and that each server
// draws its own prefix.
func TestPredictionIDsFormat(t *testing.T) {
	g := newPredictionIDs()
	g.prefix = [predictionPrefixLen]byte([]byte("0123456789abcdef-"))
	first := g.reserve(3)
	if first != 0 || g.reserve(1) != 3 {
		t.Fatalf("reserve: first %d; want 0, then 3", first)
	}
	for _, c := range []struct {
		k    uint64
		want string
	}{{0, "0123456789abcdef-0000000000000000"}, {42, "0123456789abcdef-000000000000002a"}, {1<<64 - 1, "0123456789abcdef-ffffffffffffffff"}} {
		if got := string(g.appendID([]byte("x"), c.k)); got != "x"+c.want {
			t.Errorf("appendID(%d) = %q; want %q", c.k, got, "x"+c.want)
		}
	}
	if a, b := newPredictionIDs(), newPredictionIDs(); a.prefix == b.prefix {
		t.Errorf("two generators drew the same prefix %q", a.prefix)
	}
	if len(newPredictionIDs().appendID(nil, 1)) != predictionIDLen {
		t.Errorf("an id is not predictionIDLen long")
	}
}

// TestSameRecordEncoding checks when a shadow can take the stable
// version's encoded inputs as they are.
func TestSameRecordEncoding(t *testing.T) {
	version := func(features []modelstore.Feature) *modelstore.Version {
		sch := modelstore.Schema{Features: features}
		layout, err := sch.Check(recMixedSig())
		if err != nil {
			t.Fatal(err)
		}
		return &modelstore.Version{Signature: recMixedSig(), Features: layout, Manifest: &modelstore.Manifest{Features: features}}
	}
	a := version(recMixedFeatures())
	if !sameRecordEncoding(a, version(recMixedFeatures())) {
		t.Errorf("equal schemas encode differently")
	}
	changed := recMixedFeatures()
	changed[4].Default = "food"
	if sameRecordEncoding(a, version(changed)) {
		t.Errorf("schemas with different defaults encode alike")
	}
	changed = recMixedFeatures()
	changed[2].Values = []string{"DE", "FR", "US"}
	if sameRecordEncoding(a, version(changed)) {
		t.Errorf("schemas with the values in another order encode alike")
	}
	changed = recMixedFeatures()
	changed[0].Max = ptr(5.0)
	changed[0].Description = "bounds and descriptions do not change the encoding"
	if !sameRecordEncoding(a, version(changed)) {
		t.Errorf("schemas that differ only in bounds encode differently")
	}
	if sameRecordEncoding(a, &modelstore.Version{Signature: recMixedSig()}) {
		t.Errorf("a version without a schema encodes like one with")
	}
}

// TestRecordsShadow runs records traffic with shadow versions, one whose
// schema encodes records as stable's does and one whose country values
// come in another order, with its model's weights permuted to match: both
// must get every copy encoded for their own schema and agree with stable
// exactly.
func TestRecordsShadow(t *testing.T) {
	dir := t.TempDir()
	stable := &onnx.LogReg{Weights: []float32{0.02, -0.1, 5, 0, -5, 1.2}, Bias: []float32{-0.5}}
	permuted := &onnx.LogReg{Weights: []float32{0.02, -0.1, -5, 0, 5, 1.2}, Bias: []float32{-0.5}}
	reordered := recFraudFeatures()
	reordered[2].Values = []string{"US", "DE", "FR"}
	for _, v := range []struct {
		model    string
		lr       *onnx.LogReg
		features []modelstore.Feature
	}{{"same", stable, recFraudFeatures()}, {"same", stable, recFraudFeatures()}, {"other", stable, recFraudFeatures()}, {"other", permuted, reordered}} {
		if _, err := modelstore.Publish(dir, v.model, v.lr.Model().Marshal(), modelstore.PublishOptions{Features: v.features}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []string{"same", "other"} {
		if err := rollout.WriteState(filepath.Join(dir, m), &rollout.State{Stable: 1, Shadow: 2, Strategy: rollout.Manual,
			UpdatedAt: time.Now(), Actor: "test", Reason: "shadow"}); err != nil {
			t.Fatal(err)
		}
	}
	ts := serveRegistry(t, dir, Config{})
	for _, m := range []string{"same", "other"} {
		until(t, m+"'s shadow routed", func() bool { rt := ts.store.Table().Route(m); _, ok := rt.Shadow(); return ok })
		for k := range 10 {
			country := []string{"FR", "DE", "US"}[k%3]
			got := ts.predict(t, "/v1/models/"+m+":predict", `{"instances":[{"amount":12.5,"hour":3,"country":"`+country+`"}]}`)
			if got.ModelVersion != "1" {
				t.Fatalf("version %s answered; the shadow must never answer", got.ModelVersion)
			}
		}
		shadow, err := ts.store.Lookup(m, 2)
		if err != nil {
			t.Fatal(err)
		}
		until(t, m+"'s copies compared", func() bool { return shadow.Agreement.Snapshot().Compared == 10 })
		if g := shadow.Agreement.Snapshot(); g.Same != 10 || g.AbsScoreDiff != 0 {
			t.Errorf("shadow of %s: %+v; want every copy the same answer with the same score", m, g)
		}
	}
}
