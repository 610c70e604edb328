package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// recMixedSig is a model with one input of every element type features
// feed: five columns of FP32 features and inputs of their own for an
// INT64 category index, an INT32 integer, an FP64 number and a BOOL.
func recMixedSig() *engine.Signature {
	return &engine.Signature{
		Inputs: []engine.TensorInfo{
			{Name: "x", DType: engine.FP32, Shape: []int64{-1, 6}},
			{Name: "merchant", DType: engine.INT64, Shape: []int64{-1}},
			{Name: "count", DType: engine.INT32, Shape: []int64{-1, 1}},
			{Name: "ratio", DType: engine.FP64, Shape: []int64{-1}},
			{Name: "flag", DType: engine.BOOL, Shape: []int64{-1}},
		},
		Outputs: []engine.TensorInfo{{Name: "out", DType: engine.FP32, Shape: []int64{-1, 10}}},
	}
}

// recMixedFeatures is the feature schema of recMixedSig: x holds amount, hour,
// country one-hot (3 columns) and is_foreign.
func recMixedFeatures() []modelstore.Feature {
	return []modelstore.Feature{
		{Name: "amount", Type: modelstore.TypeNumber, Min: ptr(0.0), Max: ptr(1e6), Input: "x", Position: 0},
		{Name: "hour", Type: modelstore.TypeInteger, Min: ptr(0.0), Max: ptr(23.0), Input: "x", Position: 1},
		{Name: "country", Type: modelstore.TypeCategory, Values: []string{"FR", "DE", "US"}, Encoding: modelstore.EncodeOneHot,
			Input: "x", Position: 2},
		{Name: "is_foreign", Type: modelstore.TypeBool, Default: false, Input: "x", Position: 5},
		{Name: "merchant", Type: modelstore.TypeCategory, Values: []string{"food", "travel", "games"}, Default: "travel", Input: "merchant"},
		{Name: "count", Type: modelstore.TypeInteger, Input: "count"},
		{Name: "ratio", Type: modelstore.TypeNumber, Default: 0.25, Input: "ratio"},
		{Name: "flag", Type: modelstore.TypeBool, Default: true, Input: "flag"},
	}
}

// testRecordSchema checks features against sig, as loading a version
// does, and returns the records schema the server would use.
func testRecordSchema(t testing.TB, sig *engine.Signature, features []modelstore.Feature, unknown string) *recordSchema {
	t.Helper()
	s := modelstore.Schema{Features: features, UnknownFields: unknown}
	layout, err := s.Check(sig)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	v := &modelstore.Version{Model: "m", Number: 1, Signature: sig, Features: layout,
		Manifest: &modelstore.Manifest{Features: features, UnknownFields: unknown}}
	sch, err := recordSchemaOf(v)
	if err != nil {
		t.Fatalf("recordSchemaOf: %v", err)
	}
	return &sch
}

func TestDecodeRecordsSuccess(t *testing.T) {
	sch := testRecordSchema(t, recMixedSig(), recMixedFeatures(), "")
	var r records
	body := `{"instances":[
		{"amount":12.5,"hour":7,"country":"DE","is_foreign":true,"merchant":"games","count":-3,"ratio":1e-300,"flag":false},
		{"flag":null,"count":2147483647,"country":"US","hour":2.0e1,"amount":0,"is_foreign":null,"merchant":"food"},
		{"amount":1e6,"hour":0,"country":"FR","count":0,"ratio":-0.5}]}`
	if err := decodeRecords([]byte(body), sch, &r); err != nil {
		t.Fatalf("decodeRecords = %v", err)
	}
	f := func(k int, want engine.Tensor) {
		t.Helper()
		got := r.inputs[k]
		if got.Name != want.Name || got.DType != want.DType || fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) ||
			string(got.Data) != string(want.Data) {
			t.Errorf("input %d = %s %s %v % x;\nwant %s %s %v % x", k, got.Name, got.DType, got.Shape, got.Data,
				want.Name, want.DType, want.Shape, want.Data)
		}
	}
	if r.rows != 3 || len(r.inputs) != 5 {
		t.Fatalf("decoded %d rows into %d inputs; want 3 into 5", r.rows, len(r.inputs))
	}
	f(0, engine.NewTensor("x", []int64{3, 6}, []float32{
		12.5, 7, 0, 1, 0, 1,
		0, 20, 0, 0, 1, 0,
		1e6, 0, 1, 0, 0, 0}))
	f(1, engine.NewTensor("merchant", []int64{3}, []int64{2, 0, 1}))
	f(2, engine.NewTensor("count", []int64{3, 1}, []int32{-3, math.MaxInt32, 0}))
	f(3, engine.NewTensor("ratio", []int64{3}, []float64{1e-300, 0.25, -0.5}))
	f(4, engine.NewTensor("flag", []int64{3}, []bool{false, true, true}))

	// Unknown fields are dropped when the schema says ignore.
	lax := testRecordSchema(t, recMixedSig(), recMixedFeatures(), modelstore.UnknownIgnore)
	if err := decodeRecords([]byte(`{"instances":[{"amount":1,"hour":1,"country":"FR","count":1,"colour":"red","x":[1]}]}`), lax, &r); err != nil {
		t.Fatalf("decodeRecords with unknown fields ignored = %v", err)
	}
	// Numbers as FP32 get the same float as V2's decoder gives their text.
	if err := decodeRecords([]byte(`{"instances":[{"amount":0.1,"hour":1,"country":"FR","count":1}]}`), sch, &r); err != nil {
		t.Fatal(err)
	}
	if got, _ := engine.Values[float32](&r.inputs[0]); got[0] != float32(0.1) {
		t.Errorf("amount 0.1 decoded as %v", got[0])
	}
}

// TestDecodeRecordsMalformed covers the requests answered 400: no
// instances to validate.
func TestDecodeRecordsMalformed(t *testing.T) {
	sch := testRecordSchema(t, recMixedSig(), recMixedFeatures(), "")
	good := `{"amount":1,"hour":1,"country":"FR","count":1}`
	f := func(body, want string) {
		t.Helper()
		var r records
		err := decodeRecords([]byte(body), sch, &r)
		var re *httpapi.RequestError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("decodeRecords(%.80s) = %v; want a *httpapi.RequestError containing %q", body, err, want)
		}
	}
	f(``, "malformed JSON")
	f(`{"instances":[`, "malformed JSON")
	f(`{"instances":[{"amount":Infinity`, "malformed JSON")
	f(`{"instances":[{"amount":Infinityx,"hour":1,"country":"FR","count":1}]}`, "malformed JSON")
	f(`{"instances":[{"amount":xInfinity,"hour":1,"country":"FR","count":1}]}`, "malformed JSON")
	f(`[{"amount":1}]`, "must be a JSON object")
	f(`Infinity`, `must be a JSON object {"instances": [...]}, not number`)
	f(`{"instances":-Infinity}`, `"instances" must be an array of objects, not number`)
	f(`{}`, `missing "instances"`)
	f(`{"instance":[`+good+`]}`, `unknown member "instance"`)
	f(`{"instances":[`+good+`],"id":"x"}`, `unknown member "id"`)
	f(`{"instances":[`+good+`],"instances":[]}`, `"instances" appears more than once`)
	f(`{"instances":{"amount":1}}`, `"instances" must be an array of objects, not object`)
	f(`{"instances":[]}`, `"instances" must not be empty`)
	f(`{"instances":[`+good+`,1]}`, "instances[1] must be an object, not number")
	f(`{"instances":[`+good+`,`+good+`,null]}`, "instances[2] must be an object, not null")
	f(`{"instances":[{"amount":1,"hour":1,"amount":2}]}`, `instances[0]: field "amount" appears more than once`)
	f(`{"instances":[`+strings.Repeat(good+",", MaxInstances)+good+`]}`, "at most 1024")
}

// TestDecodeRecordsProblems sends each kind of bad field, alone and
// several at once, and checks every problem is listed with its instance,
// field and code.
func TestDecodeRecordsProblems(t *testing.T) {
	sch := testRecordSchema(t, recMixedSig(), recMixedFeatures(), "")
	f := func(instances string, want ...string) {
		t.Helper()
		var r records
		body := `{"instances":[` + instances + `]}`
		err := decodeRecords([]byte(body), sch, &r)
		pe, ok := errors.AsType[*problemsError](err)
		if !ok {
			t.Errorf("decodeRecords(%s) = %v; want problems %q", body, err, want)
			return
		}
		var got []string
		for _, p := range pe.problems {
			got = append(got, fmt.Sprintf("%d %s %s: %s", p.instance, p.field, p.code, p.message))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("decodeRecords(%s) problems:\n%s\nwant:\n%s", body, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	const rest = `"hour":1,"country":"FR","count":1`
	// missing
	f(`{`+rest+`}`, `0 amount missing: amount is required`)
	f(`{"amount":null,`+rest+`}`, `0 amount missing: amount is required`)
	f(`{}`, `0 amount missing: amount is required`, `0 hour missing: hour is required`,
		`0 country missing: country is required`, `0 count missing: count is required`)
	// type
	f(`{"amount":"12.5",`+rest+`}`, `0 amount type: amount must be a number, not "12.5"`)
	f(`{"amount":"NaN",`+rest+`}`, `0 amount type: amount must be a number, not "NaN"`)
	f(`{"amount":true,`+rest+`}`, `0 amount type: amount must be a number, not true`)
	f(`{"amount":[1],`+rest+`}`, `0 amount type: amount must be a number, not [1]`)
	f(`{"amount":01,`+rest+`}`, `0 amount type: amount 01 is not a valid JSON number`)
	f(`{"amount":1,"hour":2.5,"country":"FR","count":1}`, `0 hour type: hour must be a whole number, not 2.5`)
	f(`{"amount":1,"hour":"2","country":"FR","count":1}`, `0 hour type: hour must be a whole number, not "2"`)
	f(`{"amount":1,`+rest+`,"is_foreign":1}`, `0 is_foreign type: is_foreign must be true or false, not 1`)
	f(`{"amount":1,`+rest+`,"is_foreign":"true"}`, `0 is_foreign type: is_foreign must be true or false, not "true"`)
	f(`{"amount":1,"hour":1,"country":0,"count":1}`, `0 country type: country must be a string, one of FR, DE, US; not 0`)
	// range
	f(`{"amount":-0.01,`+rest+`}`, `0 amount range: amount -0.01 is below the minimum 0`)
	f(`{"amount":1000000.5,`+rest+`}`, `0 amount range: amount 1000000.5 is above the maximum 1e+06`)
	f(`{"amount":1,"hour":24,"country":"FR","count":1}`, `0 hour range: hour 24 is above the maximum 23`)
	f(`{"amount":1,"hour":1,"country":"FR","count":2147483648}`,
		`0 count range: count 2147483648 is beyond the range of INT32, the type of the model's input`)
	f(`{"amount":1,"hour":1,"country":"FR","count":1e19}`, `0 count range: count 1e19 is beyond the range of 64-bit integers`)
	// not_allowed
	f(`{"amount":1,"hour":1,"country":"XX","count":1}`, `0 country not_allowed: country "XX" is not one of FR, DE, US`)
	f(`{"amount":1,"hour":1,"country":"fr","count":1,"merchant":"cars"}`,
		`0 country not_allowed: country "fr" is not one of FR, DE, US`,
		`0 merchant not_allowed: merchant "cars" is not one of food, travel, games`)
	// unknown
	f(`{"amount":1,`+rest+`,"colour":"red"}`, `0 colour unknown: colour is not a field of this model`)
	f(`{"amount":1,`+rest+`,"is_foriegn":true}`, `0 is_foriegn unknown: is_foriegn is not a field of this model (did you mean "is_foreign"?)`)
	// not_finite
	f(`{"amount":NaN,`+rest+`}`, `0 amount not_finite: amount NaN is not a finite number`)
	f(`{"amount":-Inf,`+rest+`}`, `0 amount not_finite: amount -Infinity is not a finite number`)
	f(`{"amount":Infinity,`+rest+`}`, `0 amount not_finite: amount Infinity is not a finite number`)
	f(`{"amount": -Infinity, "hour": 1, "country": "FR", "count": 1, "ratio": NaN}`,
		`0 amount not_finite: amount -Infinity is not a finite number`, `0 ratio not_finite: ratio NaN is not a finite number`)
	f(`{"amount":1,"hour":Infinity,"country":"FR","count":-Infinity}`,
		`0 hour not_finite: hour Infinity is not a finite number`, `0 count not_finite: count -Infinity is not a finite number`)
	f(`{"amount":1,"hour":1,"country":Infinity,"count":1,"merchant":"Infinity","is_foreign":-Infinity}`,
		`0 country type: country must be a string, one of FR, DE, US; not Infinity`,
		`0 merchant not_allowed: merchant "Infinity" is not one of food, travel, games`,
		`0 is_foreign type: is_foreign must be true or false, not -Infinity`)
	f(`{"amount":1e39,`+rest+`}`, `0 amount not_finite: amount 1e39 is beyond the range of FP32, the type of the model's input`)
	f(`{"amount":1,`+rest+`,"ratio":1e999}`, `0 ratio not_finite: ratio 1e999 is not a finite number`)
	f(`{"amount":1,`+rest+`,"ratio":nan}`, `0 ratio not_finite: ratio NaN is not a finite number`)

	// Several problems in several instances at once, good instances
	// between them: in order of instance, then of field in the body, then
	// missing fields in schema order.
	f(`{`+rest+`},{"amount":1,`+rest+`},{"colour":1,"amount":"x","hour":99,"country":"XX"},{"amount":1,`+rest+`,"flag":0}`,
		`0 amount missing: amount is required`,
		`2 colour unknown: colour is not a field of this model`,
		`2 amount type: amount must be a number, not "x"`,
		`2 hour range: hour 99 is above the maximum 23`,
		`2 country not_allowed: country "XX" is not one of FR, DE, US`,
		`2 count missing: count is required`,
		`3 flag type: flag must be true or false, not 0`)
}

// TestProblemsJSON pins the 422 body, the documented shape, on the
// example the issue gives.
func TestProblemsJSON(t *testing.T) {
	features := []modelstore.Feature{
		{Name: "amount", Type: modelstore.TypeNumber, Position: 0},
		{Name: "country", Type: modelstore.TypeCategory, Values: []string{"FR", "DE", "US"}, Position: 1},
	}
	sig := &engine.Signature{
		Inputs:  []engine.TensorInfo{{Name: "input", DType: engine.FP32, Shape: []int64{-1, 2}}},
		Outputs: []engine.TensorInfo{{Name: "probabilities", DType: engine.FP32, Shape: []int64{-1, 2}}},
	}
	sch := testRecordSchema(t, sig, features, "")
	var r records
	err := decodeRecords([]byte(`{"instances": [{"country": "FR"}, {"amount": 3, "country": "XX"}]}`), sch, &r)
	pe, ok := errors.AsType[*problemsError](err)
	if !ok {
		t.Fatalf("decodeRecords = %v; want problems", err)
	}
	const want = `{"error":"2 problems in 2 instances","problems":[` +
		`{"instance":0,"field":"amount","problem":"missing","message":"amount is required"},` +
		`{"instance":1,"field":"country","problem":"not_allowed","message":"country \"XX\" is not one of FR, DE, US"}]}`
	if got := string(pe.AppendJSON(nil)); got != want {
		t.Fatalf("422 body =\n%s\nwant\n%s", got, want)
	}
	if httpapi.StatusOf(err) != 422 {
		t.Fatalf("httpapi.StatusOf(%v) = %d; want 422", err, httpapi.StatusOf(err))
	}
	one := newProblemsError([]problem{{instance: 3, field: "a", code: problemMissing, message: "a is required"}})
	if one.Error() != "1 problem in 1 instance" {
		t.Fatalf("Error() = %q", one.Error())
	}
	if !json.Valid(one.AppendJSON(nil)) {
		t.Fatalf("invalid JSON %s", one.AppendJSON(nil))
	}
}
