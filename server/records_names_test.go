package server

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// The field names of the model "names": names a data frame's columns may
// have, with spaces, dots, accents, another script, quotes, a backslash
// and markup.
const (
	nameSepal  = "sepal length (cm)"
	nameDot    = "petal.width"
	nameCafe   = "café"
	nameJapan  = "日本"
	nameQuote  = `say "hi" \o/`
	nameScript = `</script><img src=x onerror=alert(1)>`
)

// namesFeatures is the feature schema of the model "names": six columns
// of one FP32 input.
func namesFeatures() []modelstore.Feature {
	return []modelstore.Feature{
		{Name: nameSepal, Type: modelstore.TypeNumber, Min: ptr(0.0), Max: ptr(100.0), Position: 0},
		{Name: nameDot, Type: modelstore.TypeInteger, Min: ptr(0.0), Max: ptr(10.0), Default: 2.0, Position: 1},
		{Name: nameCafe, Type: modelstore.TypeCategory, Values: []string{"oui", "non"}, Position: 2},
		{Name: nameJapan, Type: modelstore.TypeNumber, Position: 3},
		{Name: nameQuote, Type: modelstore.TypeBool, Position: 4},
		{Name: nameScript, Type: modelstore.TypeNumber, Default: 0.0, Description: "<b>not bold</b>", Position: 5},
	}
}

// namesEvalCSV is the evaluation set of "names", its header written as
// CSV quotes names with quotes and commas; its first row is
// namesFirstRow.
func namesEvalCSV() []byte {
	b := []byte(`"sepal length (cm)",petal.width,café,日本,"say ""hi"" \o/",</script><img src=x onerror=alert(1)>,label` + "\n")
	b = append(b, "5.1,3,non,2.5,true,1,1\n"...)
	for i := range 40 {
		b = fmt.Appendf(b, "%d.5,%d,%s,%d,%v,%d,%d\n", i%50, i%10, []string{"oui", "non"}[i%2], i%7-3, i%3 == 0, i%4, i%2)
	}
	return b
}

// namesFirstRow is the record eval.csv's first row stands for.
var namesFirstRow = map[string]any{nameSepal: 5.1, nameDot: 3.0, nameCafe: "non", nameJapan: 2.5, nameQuote: true, nameScript: 1.0}

// serveNamesModels serves a registry of "names", docsClassifier with
// namesFeatures and the evaluation set namesEvalCSV, and "fraud" and
// "amounts" as serveDocsModels has them. It returns the server and the
// registry's directory.
func serveNamesModels(t *testing.T) (*testServer, string) {
	t.Helper()
	dir := t.TempDir()
	_, err := modelstore.Publish(dir, "names", docsClassifier.Model().Marshal(), modelstore.PublishOptions{CreatedBy: "test",
		Features: namesFeatures(), Classes: []string{"no", "yes"}, EvalCSV: namesEvalCSV(), EvalLabel: "label"})
	if err != nil {
		t.Fatalf("publish names: %v", err)
	}
	for _, m := range []struct {
		name  string
		model *onnx.Model
		extra string
	}{{"fraud", docsClassifier.Model(), `"classes": ["legit", "fraud"], "unknown_fields": "reject"`}, {"amounts", docsRegressor.Model(), `"unknown_fields": "ignore"`}} {
		b := m.model.Marshal()
		testenv.PlaceVersion(t, dir, m.name, 1, b, strings.TrimSuffix(testenv.Manifest(b), "}")+`, "features": `+docsFeatures+`, `+m.extra+`}`)
	}
	ts := serveRegistry(t, dir, Config{})
	until(t, "names serving", func() bool { return ts.servedVersion(t, "names") == "1" })
	return ts, dir
}

// TestRecordsFieldNames sends records whose field names hold spaces,
// dots, accents, another script, quotes, a backslash and markup, written
// as they are and JSON-escaped, and gets the same answer; problems name
// the fields as the schema does.
func TestRecordsFieldNames(t *testing.T) {
	ts, _ := serveNamesModels(t)
	// The gate read eval.csv, matching its quoted header to the names.
	if vd := ts.store.Model("names").Version(1).Verdict(); vd == nil || !vd.Pass || vd.Rows != 41 {
		t.Fatalf("the gate's verdict on names: %+v; want a pass over eval.csv's 41 rows", vd)
	}
	plain, err := json.Marshal(map[string]any{"instances": []any{namesFirstRow}})
	if err != nil {
		t.Fatal(err)
	}
	// Every key written with escapes, as a client escaping non-ASCII does:
	// the decoder must match them to the schema's unescaped names.
	escaped := `{"instances":[{"sepal length (cm)":5.1,"petal\u002ewidth":3,"caf\u00e9":"non","\u65e5\u672c":2.5,` +
		`"say \"hi\" \\o\/":true,"\u003c/script\u003e\u003cimg src=x onerror=alert(1)\u003e":1}]}`
	want := ts.predict(t, "/v1/models/names:predict", string(plain))
	got := ts.predict(t, "/v1/models/names:predict", escaped)
	if len(want.Predictions) != 1 || !reflect.DeepEqual(got.Predictions, want.Predictions) {
		t.Fatalf("escaped keys: %+v; written as they are: %+v", got.Predictions, want.Predictions)
	}
	// The row, encoded by hand, sent as V2 gets the same probabilities.
	v2 := ts.do(t, "POST", "/v2/models/names/infer", requestJSON("input", "FP32", []int64{1, 6}, []float32{5.1, 3, 1, 2.5, 1, 1}))
	var out struct {
		Outputs []struct{ Data []float64 } `json:"outputs"`
	}
	if err := json.Unmarshal(v2.body, &out); err != nil || v2.status != 200 || len(out.Outputs) == 0 {
		t.Fatalf("V2 infer = %d %s", v2.status, v2.body)
	}
	var probs []float64
	for _, o := range out.Outputs {
		if len(o.Data) == 2 {
			probs = o.Data
		}
	}
	if p := want.Predictions[0].Probabilities["yes"]; len(probs) != 2 || math.Abs(p-probs[1]) > 1e-6 {
		t.Fatalf("records answer p(yes) = %v; V2 %s", p, v2.body)
	}

	// Problems carry the names exactly, as given or as the schema has them.
	r := ts.do(t, "POST", "/v1/models/names:predict", `{"instances":[{"sepal length (cm)":500,"cafe":"non","caf\u00e9":"peut-\u00eatre","\u65e5\u672c":1}]}`)
	var invalid struct {
		Problems []struct{ Field, Problem, Message string }
	}
	if err := json.Unmarshal(r.body, &invalid); err != nil || r.status != 422 {
		t.Fatalf("a bad record = %d %s", r.status, r.body)
	}
	var problems []string
	for _, p := range invalid.Problems {
		problems = append(problems, p.Field+" | "+p.Problem+" | "+p.Message)
	}
	wantProblems := []string{
		"sepal length (cm) | range | sepal length (cm) 500 is above the maximum 100",
		`cafe | unknown | cafe is not a field of this model (did you mean "café"?)`,
		`café | not_allowed | café "peut-être" is not one of oui, non`,
		`say "hi" \o/ | missing | say "hi" \o/ is required`,
	}
	if !reflect.DeepEqual(problems, wantProblems) {
		t.Fatalf("problems:\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(wantProblems, "\n"))
	}
}

// TestRefusedFieldNameOverHTTP places a version whose schema names a
// field with a tab by hand, bypassing publish: it fails to load, and the
// repository index says which character of which name.
func TestRefusedFieldNameOverHTTP(t *testing.T) {
	dir := t.TempDir()
	b := docsClassifier.Model().Marshal()
	features := strings.Replace(docsFeatures, `"name": "hour"`, `"name": "hour\tof day"`, 1)
	testenv.PlaceVersion(t, dir, "tabbed", 1, b, strings.TrimSuffix(testenv.Manifest(b), "}")+`, "features": `+features+`}`)
	ts := serveRegistry(t, dir, Config{})
	var entries []indexEntry
	until(t, "the version failed", func() bool {
		r := ts.do(t, "POST", "/v2/repository/index", "")
		entries = nil
		return json.Unmarshal(r.body, &entries) == nil && len(entries) == 1 && entries[0].State == modelstore.Failed.String()
	})
	want := `feature "hour\tof day": name holds the control character U+0009 at byte 4; a name may hold any character but control characters`
	if !strings.Contains(entries[0].Reason, want) {
		t.Fatalf("the index says %+v; want a reason containing %q", entries[0], want)
	}
}

// TestModelOpenAPIFieldNames checks the model's document over names of
// any kind: a valid OpenAPI document whose properties are the names, in
// schema order, whose example is eval.csv's first row, and which
// describes the answer to that example.
func TestModelOpenAPIFieldNames(t *testing.T) {
	ts, _ := serveNamesModels(t)
	v, doc := ts.openAPIValidator(t, "/v1/models/names/openapi.json")
	r := ts.do(t, "GET", "/v1/models/names/openapi.json", "")
	var ordered struct {
		Components struct {
			Schemas struct {
				Instance struct {
					Properties json.RawMessage `json:"properties"`
				} `json:"Instance"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.body, &ordered); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(ordered.Components.Schemas.Instance.Properties)))
	var names []string
	for depth := 0; ; {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case json.Delim:
			if tok == '{' || tok == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 {
				names = append(names, tok)
				var skip json.RawMessage
				_ = dec.Decode(&skip)
			}
		}
	}
	if want := []string{nameSepal, nameDot, nameCafe, nameJapan, nameQuote, nameScript}; !reflect.DeepEqual(names, want) {
		t.Fatalf("the Instance's properties are %q; want %q", names, want)
	}

	op := doc["paths"].(map[string]any)["/v1/models/names:predict"].(map[string]any)["post"].(map[string]any)
	example := op["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["example"]
	if want := map[string]any{"instances": []any{namesFirstRow}}; !reflect.DeepEqual(example, want) {
		t.Fatalf("the example request is %v; want eval.csv's first row, %v", example, want)
	}
	if desc := doc["info"].(map[string]any)["description"].(string); !strings.Contains(desc, "first row of the version's evaluation set") {
		t.Fatalf("the description %q does not say where the example comes from", desc)
	}
	body, _ := json.Marshal(example)
	if got := ts.describedAnswer(t, v, "POST", "/v1/models/names:predict", string(body)); got.status != 200 {
		t.Fatalf("the example request = %d %s", got.status, got.body)
	}
}

// TestExampleRecord builds the example record from eval.csv's first row
// cell by cell: a cell the records API would refuse, or a feature the set
// lacks, takes the schema's example; no set, all of them. The set is the
// one the gate reads: the version's, else the model's.
func TestExampleRecord(t *testing.T) {
	sch := &recordSchema{features: namesFeatures()}
	// f writes csv as eval.csv of the version, or with inModel of its model.
	f := func(csv string, want map[string]any, wantFromSet bool, inModel ...bool) {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "1")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if csv != "" {
			at := dir
			if len(inModel) > 0 {
				at = filepath.Dir(dir)
			}
			if err := os.WriteFile(filepath.Join(at, modelstore.EvalFile), []byte(csv), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, fromSet := exampleRecord(dir, sch)
		m := map[string]any{}
		for i, e := range got {
			if e.Key != sch.features[i].Name {
				t.Fatalf("example member %d is %q; want %q", i, e.Key, sch.features[i].Name)
			}
			m[e.Key] = e.Value
		}
		if !reflect.DeepEqual(m, want) || fromSet != wantFromSet {
			t.Fatalf("exampleRecord(%q) = %v, %v; want %v, %v", csv, m, fromSet, want, wantFromSet)
		}
	}
	schemaExample := map[string]any{nameSepal: 0.0, nameDot: 2.0, nameCafe: "oui", nameJapan: 0.0, nameQuote: false, nameScript: 0.0}
	f("", schemaExample, false)
	f(string(namesEvalCSV()), namesFirstRow, true)
	f(string(namesEvalCSV()), namesFirstRow, true, true) // the model's set, as the gate falls back to it
	// Out of range, not whole, not a value, not a bool, absent: the
	// schema's; surrounding spaces and a byte-order mark as the gate reads.
	f("\ufeff sepal length (cm) ,petal.width,café,\"say \"\"hi\"\" \\o/\",日本,label\n101, 2.5 ,peut-être,maybe, -1e3 ,0\n",
		map[string]any{nameSepal: 0.0, nameDot: 2.0, nameCafe: "oui", nameJapan: -1000.0, nameQuote: false, nameScript: 0.0}, true)
	// Not CSV: the schema's.
	f("a\"b,c\n1,2\n", schemaExample, false)
}

// FuzzDecodeRecordNames holds the records decoder to FuzzDecodeRecords'
// contract over namesFeatures, whose names a client may write as they are
// or with any JSON escapes: the fast path accepts only what the full
// decoder accepts, and decodes it alike, and whatever decodes encodes
// back to the same tensors.
func FuzzDecodeRecordNames(f *testing.F) {
	for _, seed := range []string{
		`{"instances":[{"sepal length (cm)":5.1,"petal.width":3,"café":"non","日本":2.5,"say \"hi\" \\o/":true,"</script><img src=x onerror=alert(1)>":1}]}`,
		`{"instances":[{"sepal length (cm)":5.1,"petal\u002ewidth":3,"caf\u00e9":"non","\u65e5\u672c":2.5,"say \"hi\" \\o\/":true}]}`,
		`{"instances":[{"sepal length (cm)":1,"café":"oui","日本":0,"say \"hi\" \\o/":false},{"cafe":"non","caf\u00e9":"peut-\u00eatre"}]}`,
		`{"instances":[{"sepal length (cm)":1,"sepal length (cm)":2}]}`,
		`{"instances":[{"\ud83d\ude00":1,"\ud800":2,"caf\u00E9":"non"}]}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	sig := &engine.Signature{
		Inputs:  []engine.TensorInfo{{Name: "input", DType: engine.FP32, Shape: []int64{-1, 6}}},
		Outputs: []engine.TensorInfo{{Name: "probabilities", DType: engine.FP32, Shape: []int64{-1, 2}}},
	}
	strict := testRecordSchema(f, sig, namesFeatures(), "")
	lax := testRecordSchema(f, sig, namesFeatures(), modelstore.UnknownIgnore)
	fuzzRecords(f, strict, lax)
}
