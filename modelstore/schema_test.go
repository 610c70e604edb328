package modelstore_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
)

func ptr(v float64) *float64 { return &v }

func TestParseSchemaSuccess(t *testing.T) {
	want := &modelstore.Schema{
		Features: []modelstore.Feature{
			{Name: "amount", Type: "number", Min: ptr(0), Max: ptr(1e6), Default: 0.0, Description: "in cents", Position: 0},
			{Name: "hour", Type: "integer", Min: ptr(0), Max: ptr(23), Default: 12.0, Position: 1},
			{Name: "country", Type: "category", Values: []string{"FR", "DE", "no"}, Encoding: "one_hot", Position: 2},
			{Name: "is_foreign", Type: "bool", Default: false, Position: 5},
			{Name: "merchant", Type: "category", Values: []string{"food", "travel"}, Default: "food", Input: "merchant_id"},
		},
		Classes:       []string{"legit", "fraud"},
		UnknownFields: "ignore",
	}
	f := func(in string) {
		t.Helper()
		s, err := modelstore.ParseSchema([]byte(in))
		if err != nil {
			t.Fatalf("ParseSchema(%q) error: %v", in, err)
		}
		if !reflect.DeepEqual(s, want) {
			got, _ := json.Marshal(s)
			exp, _ := json.Marshal(want)
			t.Fatalf("ParseSchema(%q) =\n%s\nwant\n%s", in, got, exp)
		}
	}
	f(`{
  "features": [
    {"name": "amount", "type": "number", "min": 0, "max": 1e6, "default": 0, "description": "in cents", "position": 0},
    {"name": "hour", "type": "integer", "min": 0, "max": 23, "default": 12, "position": 1},
    {"name": "country", "type": "category", "values": ["FR", "DE", "no"], "encoding": "one_hot", "position": 2},
    {"name": "is_foreign", "type": "bool", "default": false, "position": 5},
    {"name": "merchant", "type": "category", "values": ["food", "travel"], "default": "food", "input": "merchant_id"}
  ],
  "classes": ["legit", "fraud"],
  "unknown_fields": "ignore"
}`)
	// YAML: whole numbers become float64 defaults as in JSON, and "no" stays
	// a string (YAML 1.2).
	f(`# the fraud model's records
features:
  - name: amount
    type: number
    min: 0
    max: 1000000
    default: 0
    description: in cents
    position: 0
  - {name: hour, type: integer, min: 0, max: 23, default: 12, position: 1}
  - name: country
    type: category
    values: [FR, DE, no]
    encoding: one_hot
    position: 2
  - {name: is_foreign, type: bool, default: false, position: 5}
  - {name: merchant, type: category, values: [food, travel], default: food, input: merchant_id}
classes: [legit, fraud]
unknown_fields: ignore
`)
	// A byte-order mark and blank lines before the JSON.
	b, _ := json.Marshal(want)
	f("\ufeff\n  " + string(b))
}

func TestParseSchemaFailure(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		s, err := modelstore.ParseSchema([]byte(in))
		if !errors.Is(err, modelstore.ErrSchema) {
			t.Fatalf("ParseSchema(%q) = %v, %v; want an error wrapping ErrSchema", in, s, err)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("ParseSchema(%q) error %q; want it to contain %q", in, err, w)
			}
		}
	}
	f("", "empty file")
	f(" \n\t", "empty file")
	// Unknown keys are refused and named, in a feature and at the top.
	f(`{"features": [{"name": "a", "type": "number", "mn": 0}]}`, "json", `unknown field "mn"`)
	f(`{"features": [], "unknown": "reject"}`, "json", `unknown field "unknown"`)
	f("features:\n  - name: a\n    type: number\n    mn: 0\n", "yaml", "line 4", "field mn not found in a feature")
	f("features: []\nunknown: reject\n", "yaml", "line 2", "field unknown not found in the schema")
	// A typo gets a "did you mean".
	f(`{"features": [{"name": "a", "type": "number", "mn": 0}]}`, `unknown field "mn" (did you mean "min"?)`)
	f(`{"features": [], "unknown_field": "reject"}`, `(did you mean "unknown_fields"?)`)
	f("features:\n  - name: a\n    type: number\n    mn: 0\n", `field mn not found in a feature (did you mean "min"?)`)
	f("features: []\nclases: [a, b]\n", `field clases not found in the schema (did you mean "classes"?)`)
	// Malformed files and wrong kinds.
	f(`{"features": [`, "json", "unexpected EOF")
	f(`{"features": []} {}`, "json", "data after the schema object")
	f(`{"features": [{"name": "a", "position": "one"}]}`, "json", "features.position: a string where int belongs")
	f("features:\n  - name: a\n    position: one\n", "yaml", "line 3", "cannot unmarshal")
	f("- a\n- b\n", "yaml", "line 1", "cannot unmarshal !!seq into a schema (a mapping)")
	f("features: [\n", "yaml")
	f("# nothing yet\n", "yaml: no document, only comments")
	f("features: []\n---\nfeatures: []\n", "yaml: more than one document")
}

// logRegSig is the signature of a binary LogReg over three features: input
// FP32 [-1, 3], outputs label INT64 [-1] and probabilities FP32 [-1, 2].
var logRegSig = engine.Signature{
	Inputs: []engine.TensorInfo{{Name: "input", DType: engine.FP32, Shape: []int64{-1, 3}}},
	Outputs: []engine.TensorInfo{
		{Name: "label", DType: engine.INT64, Shape: []int64{-1}},
		{Name: "probabilities", DType: engine.FP32, Shape: []int64{-1, 2}},
	},
}

// sigOf returns the signature onnxruntime reads from model.
func sigOf(t *testing.T, model *onnx.Model) *engine.Signature {
	t.Helper()
	sess, err := engine.New(model.Marshal(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	sig := *sess.Signature()
	return &sig
}

func TestSchemaCheckLogRegSignature(t *testing.T) {
	got := sigOf(t, (&onnx.LogReg{Weights: []float32{1, 2, 3}, Bias: []float32{0}}).Model())
	if !reflect.DeepEqual(got, &logRegSig) {
		t.Fatalf("the LogReg's signature is %+v; the tests below assume %+v", got, logRegSig)
	}
}

func TestSchemaCheckFailure(t *testing.T) {
	num := func(name string, pos int) modelstore.Feature {
		return modelstore.Feature{Name: name, Type: "number", Position: pos}
	}
	// abc fits logRegSig; each case changes it.
	abc := func(edit func(fs []modelstore.Feature) []modelstore.Feature) modelstore.Schema {
		return modelstore.Schema{Features: edit([]modelstore.Feature{num("a", 0), num("b", 1), num("c", 2)})}
	}
	f := func(s modelstore.Schema, sig *engine.Signature, want ...string) {
		t.Helper()
		l, err := s.Check(sig)
		if !errors.Is(err, modelstore.ErrSchema) {
			t.Fatalf("Check(%+v) = %+v, %v; want an error wrapping ErrSchema", s, l, err)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("Check(%+v) error %q; want it to contain %q", s, err, w)
			}
		}
	}
	set := func(i int, fn func(f *modelstore.Feature)) func([]modelstore.Feature) []modelstore.Feature {
		return func(fs []modelstore.Feature) []modelstore.Feature { fn(&fs[i]); return fs }
	}
	sig := &logRegSig

	// Names.
	f(modelstore.Schema{}, sig, "no features")
	f(abc(set(1, func(f *modelstore.Feature) { f.Name = "" })), sig, "feature 1: empty name")
	name := func(n, want string) {
		t.Helper()
		f(abc(set(1, func(f *modelstore.Feature) { f.Name = n })), sig, want)
	}
	name("card\tage", `feature "card\tage": name holds the control character U+0009 at byte 4; a name may hold any character but control characters`)
	name("age\n", `feature "age\n": name holds the control character U+000A at byte 3`)
	name("a\x00b", `feature "a\x00b": name holds the control character U+0000 at byte 1`)
	name("a\u0085", `feature "a\u0085": name holds the control character U+0085 at byte 1`)
	name("a\x7f", `feature "a\x7f": name holds the control character U+007F at byte 1`)
	name("caf\xe9", `feature "caf\xe9": name is not valid UTF-8: byte 0xe9 at byte 3`)
	name(" age", `feature " age": name starts with white space (U+0020); a name may not start or end with it, since CSV headers and YAML drop it`)
	name("age\u00a0", `feature "age\u00a0": name ends with white space (U+00A0 at byte 3)`)
	name("\ufeffage", `feature "\ufeffage": name starts with a byte-order mark (U+FEFF), which CSV readers drop`)
	name(strings.Repeat("é", 129), `name is 258 bytes long; a name may have at most 256 bytes of UTF-8`)
	f(abc(set(2, func(f *modelstore.Feature) { f.Name = "a" })), sig, `feature "a": duplicate name (feature 0 has it too)`)
	// Types, bounds and values.
	f(abc(set(0, func(f *modelstore.Feature) { f.Type = "float" })), sig, `feature "a": type "float" is not one of number, integer, category, bool`)
	f(abc(set(0, func(f *modelstore.Feature) { f.Type = "" })), sig, `feature "a": type "" is not one of`)
	f(abc(set(0, func(f *modelstore.Feature) { f.Type, f.Values, f.Min = "category", []string{"x"}, ptr(0) })), sig,
		`feature "a": min and max apply to number and integer features, not category`)
	f(abc(set(0, func(f *modelstore.Feature) { f.Type, f.Max = "bool", ptr(1) })), sig, `feature "a": min and max apply`, "not bool")
	f(abc(set(0, func(f *modelstore.Feature) { f.Min = ptr(math.NaN()) })), sig, `feature "a": min NaN is not finite`)
	f(abc(set(0, func(f *modelstore.Feature) { f.Max = ptr(math.Inf(1)) })), sig, `feature "a": max +Inf is not finite`)
	f(abc(set(0, func(f *modelstore.Feature) { f.Min, f.Max = ptr(5), ptr(1) })), sig, `feature "a": min 5 is greater than max 1`)
	f(abc(set(0, func(f *modelstore.Feature) { f.Type = "category" })), sig, `feature "a": a category needs values`)
	f(abc(set(0, func(f *modelstore.Feature) { f.Values = []string{"x"} })), sig, `feature "a": values apply to category features only, not number`)
	f(abc(set(0, func(f *modelstore.Feature) { f.Type, f.Values = "category", []string{"x", ""} })), sig, `feature "a": value 1 is empty`)
	f(abc(set(0, func(f *modelstore.Feature) { f.Type, f.Values = "category", []string{"x", "y", "x"} })), sig, `feature "a": value "x" appears twice`)
	// Defaults.
	def := func(typ string, d any, values ...string) modelstore.Schema {
		return abc(set(1, func(f *modelstore.Feature) {
			f.Type, f.Default, f.Values, f.Min, f.Max = typ, d, values, ptr(-1), ptr(1)
			if typ == "category" || typ == "bool" {
				f.Min, f.Max = nil, nil
			}
		}))
	}
	f(def("number", "1"), sig, `feature "b": default "1" is not a number`)
	f(def("number", 1), sig, `feature "b": default 1 is not a number`) // a Go int: not what JSON decodes
	f(def("number", math.NaN()), sig, `feature "b": default NaN is not finite`)
	f(def("number", -1.5), sig, `feature "b": default -1.5 is below min -1`)
	f(def("integer", 2.0), sig, `feature "b": default 2 is above max 1`)
	f(def("integer", 0.5), sig, `feature "b": default 0.5 is not a whole number`)
	f(def("category", "z", "x", "y"), sig, `feature "b": default "z" is not one of values`)
	f(def("category", 0.0, "x", "y"), sig, `feature "b": default 0 is not a string`)
	f(def("bool", "true"), sig, `feature "b": default "true" is not true or false`)
	f(def("bool", 1.0), sig, `feature "b": default 1 is not true or false`)
	// Encodings and positions.
	f(abc(set(2, func(f *modelstore.Feature) { f.Encoding = "one_hot" })), sig, `feature "c": encoding one_hot applies to category features only, not number`)
	f(abc(set(2, func(f *modelstore.Feature) { f.Encoding = "onehot" })), sig, `feature "c": encoding "onehot" is not value or one_hot`)
	f(abc(set(2, func(f *modelstore.Feature) { f.Position = -1 })), sig, `feature "c": position -1 is negative`)
	// Classes and unknown fields.
	cls := func(classes ...string) modelstore.Schema {
		s := abc(func(fs []modelstore.Feature) []modelstore.Feature { return fs })
		s.Classes = classes
		return s
	}
	f(cls("legit", ""), sig, "class 1: empty name")
	f(cls("legit", "legit"), sig, `class "legit" appears twice`)
	f(modelstore.Schema{Features: []modelstore.Feature{num("a", 0), num("b", 1), num("c", 2)}, UnknownFields: "drop"}, sig,
		`unknown_fields "drop" is not reject or ignore`)

	// Against the signature: inputs named or not.
	two := &engine.Signature{Inputs: []engine.TensorInfo{
		{Name: "x", DType: engine.FP32, Shape: []int64{-1, 2}},
		{Name: "y", DType: engine.FP32, Shape: []int64{-1}},
	}}
	f(modelstore.Schema{Features: []modelstore.Feature{num("a", 0), num("b", 1), {Name: "c", Type: "number", Input: "y"}}}, two,
		`feature "a": no input named, and the model has 2 inputs ("x", "y"): set input`, `feature "b": no input named`)
	f(abc(set(2, func(f *modelstore.Feature) { f.Input = "features" })), sig,
		`feature "c": input "features" is not one of the model's inputs ("input")`, `input "input": no feature feeds column 2`)
	// Columns: outside, overlapping, unfed.
	f(abc(set(2, func(f *modelstore.Feature) { f.Position = 3 })), sig,
		`feature "c": columns 3 to 3 are outside input "input", which has 3 columns`)
	f(abc(set(2, func(f *modelstore.Feature) { f.Type, f.Values, f.Encoding = "category", []string{"x", "y"}, "one_hot" })), sig,
		`feature "c": columns 2 to 3 are outside input "input", which has 3 columns`)
	f(abc(set(2, func(f *modelstore.Feature) { f.Position = 1 })), sig,
		`feature "c": columns 1 to 1 of input "input" overlap feature "b"`, `input "input": no feature feeds column 2 `)
	f(abc(set(0, func(f *modelstore.Feature) { f.Type, f.Values, f.Encoding = "category", []string{"x", "y"}, "one_hot" })), sig,
		`feature "b": columns 1 to 1 of input "input" overlap feature "a"`)
	wide := &engine.Signature{Inputs: []engine.TensorInfo{{Name: "x", DType: engine.FP64, Shape: []int64{-1, 10}}}}
	f(modelstore.Schema{Features: []modelstore.Feature{num("a", 1), num("b", 4), num("c", 5)}}, wide,
		`input "x": no feature feeds column 0, 2-3, 6-9 (every column of every input needs one)`)
	// An input of a feature's own.
	own := func(shape ...int64) *engine.Signature {
		return &engine.Signature{Inputs: []engine.TensorInfo{{Name: "x", DType: engine.INT64, Shape: shape}}}
	}
	f(modelstore.Schema{Features: []modelstore.Feature{{Name: "a", Type: "integer", Position: 1}}}, own(-1),
		`feature "a": input "x" of shape [-1] holds one value per row: the feature must be at position 0, of width 1, not columns 1 to 1`)
	f(modelstore.Schema{Features: []modelstore.Feature{{Name: "a", Type: "category", Values: []string{"x", "y"}, Encoding: "one_hot"}}},
		&engine.Signature{Inputs: []engine.TensorInfo{{Name: "x", DType: engine.FP32, Shape: []int64{-1, 1}}}},
		`feature "a": input "x" of shape [-1 1] holds one value per row`, "not columns 0 to 1")
	f(modelstore.Schema{Features: []modelstore.Feature{{Name: "a", Type: "integer"}, {Name: "b", Type: "integer"}}}, own(-1, 1),
		`feature "b": columns 0 to 0 of input "x" overlap feature "a"`)
	// Element types.
	f(modelstore.Schema{Features: []modelstore.Feature{{Name: "a", Type: "number"}}}, own(-1),
		`feature "a": a number cannot feed input "x", which is INT64: use type integer, or an FP32 or FP64 input`)
	f(modelstore.Schema{Features: []modelstore.Feature{{Name: "a", Type: "category", Values: []string{"x"}, Encoding: "one_hot"}}}, own(-1),
		`feature "a": a one-hot category cannot feed input "x", which is INT64: an integer input takes a category as its index (encoding value)`)
	for _, typ := range []string{"number", "integer", "category"} {
		s := modelstore.Schema{Features: []modelstore.Feature{{Name: "a", Type: typ}}}
		if typ == "category" {
			s.Features[0].Values = []string{"x"}
		}
		f(s, &engine.Signature{Inputs: []engine.TensorInfo{{Name: "x", DType: engine.BOOL, Shape: []int64{-1}}}},
			`feature "a": a`, `cannot feed input "x", which is BOOL: a BOOL input takes bool features only`)
	}
	// Inputs the records API cannot feed.
	f(modelstore.Schema{Features: []modelstore.Feature{{Name: "a", Type: "integer"}}},
		&engine.Signature{Inputs: []engine.TensorInfo{{Name: "x", DType: engine.INT8, Shape: []int64{-1}}}},
		`input "x" is INT8: features feed FP32, FP64, INT64, INT32 and BOOL inputs`)
	for _, shape := range [][]int64{{}, {-1, 3, 2}, {-1, -1}, {-1, 0}} {
		f(abc(func(fs []modelstore.Feature) []modelstore.Feature { return fs }),
			&engine.Signature{Inputs: []engine.TensorInfo{{Name: "input", DType: engine.FP32, Shape: shape}}},
			`input "input" has shape`, "features feed [rows] or [rows, columns] with a known number of columns")
	}
	f(abc(func(fs []modelstore.Feature) []modelstore.Feature { return fs }),
		&engine.Signature{Inputs: []engine.TensorInfo{{Name: "input", DType: engine.FP32, Shape: []int64{1, 3}}}},
		`input "input" has shape [1 3]: its first dimension must be the batch, dynamic (-1)`)
	// Classes against the outputs.
	f(cls("a", "b", "c"), sig, `classes names 3 classes, but the model's output "probabilities" of shape [-1 2] has 2`)
	f(cls("a", "b"), &engine.Signature{Inputs: logRegSig.Inputs, Outputs: logRegSig.Outputs[:1]},
		"classes names 2 classes, but the model has no float output of shape [rows, 2] for their probabilities")
	f(cls("a", "b"), &engine.Signature{Inputs: logRegSig.Inputs, Outputs: []engine.TensorInfo{{Name: "y", DType: engine.FP32, Shape: []int64{-1}}}},
		`classes names 2 classes, but the model's output "y" of shape [-1] has 1`)

	// Every problem is reported at once.
	l, err := (&modelstore.Schema{
		Features: []modelstore.Feature{
			{Name: "a", Type: "float", Position: 0},
			{Name: "b", Type: "number", Position: 0},
		},
		UnknownFields: "drop",
	}).Check(sig)
	for _, w := range []string{`feature "a": type "float"`, `feature "b": columns 0 to 0 of input "input" overlap feature "a"`,
		`input "input": no feature feeds column 1-2`, `unknown_fields "drop"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Check = %+v, %v; want every problem, %q among them", l, err, w)
		}
	}
}

// multiInput is a model of five inputs, one of each element type the
// records API feeds, each returned as it is:
//
//	dense    FP32  [N, 7]
//	merchant INT64 [N]
//	card_age FP64  [N, 1]
//	visits   INT32 [N, 1]
//	flagged  BOOL  [N]
func multiInput() *onnx.Model {
	n := onnx.DimParam("N")
	in := []onnx.ValueInfo{
		{Name: "dense", Type: onnx.Float, Shape: []onnx.Dim{n, onnx.DimValue(7)}},
		{Name: "merchant", Type: onnx.Int64, Shape: []onnx.Dim{n}},
		{Name: "card_age", Type: onnx.Double, Shape: []onnx.Dim{n, onnx.DimValue(1)}},
		{Name: "visits", Type: onnx.Int32, Shape: []onnx.Dim{n, onnx.DimValue(1)}},
		{Name: "flagged", Type: onnx.Bool, Shape: []onnx.Dim{n}},
	}
	g := onnx.Graph{Name: "multi", Inputs: in}
	for _, x := range in {
		y := x
		y.Name = "out_" + x.Name
		g.Outputs = append(g.Outputs, y)
		g.Nodes = append(g.Nodes, onnx.Node{OpType: "Identity", Inputs: []string{x.Name}, Outputs: []string{y.Name}})
	}
	return &onnx.Model{Graph: g}
}

// multiSchema fits multiInput with every type and encoding.
const multiSchema = `
features:
  - {name: amount, type: number, min: 0, input: dense, position: 0}
  - {name: country, type: category, values: [FR, DE, US], encoding: one_hot, input: dense, position: 1}
  - {name: is_foreign, type: bool, default: false, input: dense, position: 4}
  - {name: channel, type: category, values: [web, pos], input: dense, position: 5}
  - {name: hour, type: integer, min: 0, max: 23, input: dense, position: 6}
  - {name: merchant, type: category, values: [food, travel, fuel], input: merchant}
  - {name: card_age, type: integer, input: card_age}
  - {name: visits, type: integer, default: 0, input: visits}
  - {name: flagged, type: bool, input: flagged}
unknown_fields: ignore
`

func TestSchemaCheckSuccess(t *testing.T) {
	s, err := modelstore.ParseSchema([]byte(multiSchema))
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Check(sigOf(t, multiInput()))
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	want := &modelstore.FeaturePlacement{
		Inputs: []modelstore.InputSlot{
			{Name: "dense", DType: engine.FP32, Columns: 7, Shape2D: true},
			{Name: "merchant", DType: engine.INT64, Columns: 1},
			{Name: "card_age", DType: engine.FP64, Columns: 1, Shape2D: true},
			{Name: "visits", DType: engine.INT32, Columns: 1, Shape2D: true},
			{Name: "flagged", DType: engine.BOOL, Columns: 1},
		},
		Features: []modelstore.FeatureSlot{
			{Input: 0, Column: 0, Width: 1},
			{Input: 0, Column: 1, Width: 3},
			{Input: 0, Column: 4, Width: 1},
			{Input: 0, Column: 5, Width: 1},
			{Input: 0, Column: 6, Width: 1},
			{Input: 1, Column: 0, Width: 1},
			{Input: 2, Column: 0, Width: 1},
			{Input: 3, Column: 0, Width: 1},
			{Input: 4, Column: 0, Width: 1},
		},
	}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("Check = %+v; want %+v", l, want)
	}

	// A classifier: the only input by default, in any order of positions,
	// and its classes.
	lr := &onnx.LogReg{Weights: make([]float32, 6*3), Bias: []float32{0, 0, 0}} // 6 features, 3 classes
	s = &modelstore.Schema{
		Features: []modelstore.Feature{
			{Name: "z", Type: "bool", Position: 5},
			{Name: "colour", Type: "category", Values: []string{"red", "green", "blue"}, Encoding: "one_hot", Position: 2},
			{Name: "size", Type: "number", Default: 1.5, Position: 0},
			{Name: "n", Type: "integer", Input: "input", Position: 1},
		},
		Classes: []string{"low", "mid", "high"},
	}
	l, err = s.Check(sigOf(t, lr.Model()))
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	want = &modelstore.FeaturePlacement{
		Inputs:   []modelstore.InputSlot{{Name: "input", DType: engine.FP32, Columns: 6, Shape2D: true}},
		Features: []modelstore.FeatureSlot{{Column: 5, Width: 1}, {Column: 2, Width: 3}, {Column: 0, Width: 1}, {Column: 1, Width: 1}},
	}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("Check = %+v; want %+v", l, want)
	}
}

// TestSchemaCheckNames holds Check to the names a data frame's columns
// may have: any text but the few that cannot be written safely.
func TestSchemaCheckNames(t *testing.T) {
	f := func(name string) {
		t.Helper()
		s := &modelstore.Schema{Features: []modelstore.Feature{
			{Name: name, Type: "number", Position: 0},
			{Name: "b", Type: "number", Position: 1},
			{Name: "c", Type: "number", Position: 2},
		}}
		if _, err := s.Check(&logRegSig); err != nil {
			t.Fatalf("Check(name %q) = %v; want no error", name, err)
		}
	}
	f("2b")
	f("card-age")
	f("sepal length (cm)")
	f("petal.width")
	f("café")
	f("日本")
	f("U+FFFD \ufffd written out")
	f(`a"b`)
	f(`<script>alert(1)</script>`)
	f("a,b;c'd\\e/f~g")
	f("inner  spaces\u00a0kept")
	f("x" + strings.Repeat("y", modelstore.MaxFieldNameBytes-1))
}

// TestParseSchemaNames reads names of any kind from a YAML and a JSON
// schema file, quoted as each quotes them, and Check takes them.
func TestParseSchemaNames(t *testing.T) {
	want := []string{"sepal length (cm)", "petal.width", "日本", `say "hi" \o/`, "2b"}
	yamlSchema := `features:
  - {name: "sepal length (cm)", type: number, position: 0}
  - {name: petal.width, type: number, position: 1}
  - {name: 日本, type: number, position: 2}
`
	jsonSchema := `{"features": [{"name": "say \"hi\" \\o/", "type": "number", "position": 0},
		{"name": "2b", "type": "number", "position": 1}, {"name": "\u65e5\u672c", "type": "number", "position": 2}]}`
	var got []string
	for _, in := range []string{yamlSchema, jsonSchema} {
		s, err := modelstore.ParseSchema([]byte(in))
		if err != nil {
			t.Fatalf("ParseSchema(%q): %v", in, err)
		}
		if _, err := s.Check(&logRegSig); err != nil {
			t.Fatalf("Check(%q): %v", in, err)
		}
		for _, f := range s.Features {
			got = append(got, f.Name)
		}
	}
	if want = append(want, "日本"); !reflect.DeepEqual(got, want) {
		t.Fatalf("names = %q; want %q", got, want)
	}
}

func TestSchemaOf(t *testing.T) {
	var nilManifest *modelstore.Manifest
	if s := nilManifest.SchemaOf(); s != nil {
		t.Fatalf("nil manifest: SchemaOf = %+v; want nil", s)
	}
	if s := (&modelstore.Manifest{Classes: []string{"a", "b"}}).SchemaOf(); s != nil {
		t.Fatalf("no features: SchemaOf = %+v; want nil", s)
	}
	m := &modelstore.Manifest{Features: []modelstore.Feature{{Name: "a", Type: "number"}}, Classes: []string{"x", "y"}, UnknownFields: "ignore"}
	want := &modelstore.Schema{Features: m.Features, Classes: m.Classes, UnknownFields: "ignore"}
	if s := m.SchemaOf(); !reflect.DeepEqual(s, want) {
		t.Fatalf("SchemaOf = %+v; want %+v", s, want)
	}
}

func TestPublishChecksSchema(t *testing.T) {
	dir := t.TempDir()
	model := (&onnx.LogReg{Weights: []float32{1, 2, 3}, Bias: []float32{0}}).Model().Marshal()
	f := func(opts modelstore.PublishOptions, want string) {
		t.Helper()
		v, err := modelstore.Publish(dir, "m", model, opts)
		if !errors.Is(err, modelstore.ErrSchema) || !strings.Contains(err.Error(), want) {
			t.Fatalf("Publish = %d, %v; want an error wrapping ErrSchema containing %q", v, err, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "m")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a refused publish wrote to the registry: %v", err)
		}
	}
	two := []modelstore.Feature{{Name: "a", Type: "number"}, {Name: "b", Type: "number", Position: 1}}
	f(modelstore.PublishOptions{Features: two}, `publish m: modelstore: invalid feature schema: input "input": no feature feeds column 2`)
	f(modelstore.PublishOptions{Classes: []string{"no", "yes"}}, "no features")
	f(modelstore.PublishOptions{Features: append(two, modelstore.Feature{Name: "c", Type: "number", Position: 2}), Classes: []string{"a"}},
		`classes names 1 classes, but the model's output "probabilities" of shape [-1 2] has 2`)

	// A schema that fits is kept in the manifest, and the version loads
	// with its placement.
	features := append(two, modelstore.Feature{Name: "c", Type: "bool", Position: 2, Description: "flag"})
	v, err := modelstore.Publish(dir, "m", model, modelstore.PublishOptions{Features: features, Classes: []string{"no", "yes"}, UnknownFields: "ignore"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := modelstore.ReadManifest(filepath.Join(dir, "m", "1"))
	if err != nil {
		t.Fatal(err)
	}
	want := &modelstore.Schema{Features: features, Classes: []string{"no", "yes"}, UnknownFields: "ignore"}
	if s := m.SchemaOf(); !reflect.DeepEqual(s, want) {
		t.Fatalf("the manifest's schema is %+v; want %+v", s, want)
	}
	st := openStore(t, dir)
	ver, err := st.Lookup("m", v)
	if err != nil {
		t.Fatal(err)
	}
	wantPlacement := &modelstore.FeaturePlacement{
		Inputs:   []modelstore.InputSlot{{Name: "input", DType: engine.FP32, Columns: 3, Shape2D: true}},
		Features: []modelstore.FeatureSlot{{Column: 0, Width: 1}, {Column: 1, Width: 1}, {Column: 2, Width: 1}},
	}
	if !reflect.DeepEqual(ver.Features, wantPlacement) {
		t.Fatalf("version %d has placement %+v; want %+v", v, ver.Features, wantPlacement)
	}
}

func TestLoadChecksSchema(t *testing.T) {
	dir := t.TempDir()
	good := testenv.Publish(t, dir, "m", small(1)) // no schema: no placement
	model := small(2).Marshal()
	manifest := strings.TrimSuffix(testenv.Manifest(model), "}") +
		`, "features": [{"name": "a", "type": "number", "position": 0}, {"name": "b", "type": "number", "position": 3}]}`
	testenv.PlaceVersion(t, dir, "m", 2, model, manifest)

	st := openStore(t, dir)
	v := st.Model("m").Version(2)
	want := `load m/2: modelstore: invalid feature schema: feature "b": columns 3 to 3 are outside input "input", which has 3 columns; ` +
		`input "input": no feature feeds column 1-2 (every column of every input needs one)`
	if v.State() != modelstore.Failed || v.Reason() != want {
		t.Fatalf("version 2: %s, %q; want FAILED, %q", v.State(), v.Reason(), want)
	}
	if v.Features != nil {
		t.Fatalf("version 2 has a placement: %+v", v.Features)
	}
	served, err := st.Lookup("m", 0)
	if err != nil || served.Number != good || served.Features != nil {
		t.Fatalf("Lookup(m, 0) = %+v, %v; want version %d without a placement", served, err, good)
	}
}

func TestGateColumns(t *testing.T) {
	f := func(m *modelstore.Manifest, want []gate.Column) {
		t.Helper()
		if got := m.GateColumns(); !reflect.DeepEqual(got, want) {
			t.Fatalf("GateColumns(%+v) = %+v; want %+v", m, got, want)
		}
	}
	f(nil, nil)
	f(&modelstore.Manifest{}, nil)
	colours := []string{"red", "green"}
	features := []modelstore.Feature{
		{Name: "size", Type: "number", Position: 4},
		{Name: "n", Type: "integer", Input: "input", Position: 3},
		{Name: "colour", Type: "category", Values: colours, Encoding: "one_hot", Position: 0},
		{Name: "shade", Type: "category", Values: colours, Encoding: "value", Position: 2},
		{Name: "ok", Type: "bool", Position: 5},
	}
	one := &modelstore.ManifestSignature{Inputs: []modelstore.ManifestTensor{{Name: "input", Datatype: "FP32", Shape: []int64{-1, 6}}}}
	want := []gate.Column{
		{Name: "size", Position: 4},
		{Name: "n", Position: 3},
		{Name: "colour", Position: 0, Category: colours, OneHot: true},
		{Name: "shade", Position: 2, Category: colours},
		{Name: "ok", Position: 5, Bool: true},
	}
	f(&modelstore.Manifest{Features: features, Signature: one}, want)
	f(&modelstore.Manifest{Features: features}, want)
	// Features in inputs of their own: the gate cannot feed them.
	two := &modelstore.ManifestSignature{Inputs: append(one.Inputs, modelstore.ManifestTensor{Name: "x", Datatype: "INT64", Shape: []int64{-1}})}
	f(&modelstore.Manifest{Features: features, Signature: two}, nil)
	f(&modelstore.Manifest{Features: append(features, modelstore.Feature{Name: "x", Type: "integer", Input: "x"})}, nil)
}

func FuzzParseSchema(f *testing.F) {
	f.Add([]byte(multiSchema))
	f.Add([]byte(`{"features": [{"name": "a", "type": "category", "values": ["x", "y"], "encoding": "one_hot", "position": 1}], "classes": ["n", "y"]}`))
	f.Add([]byte("features:\n  - {name: a, type: number, min: .nan, position: 9223372036854775807}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := modelstore.ParseSchema(data)
		if err != nil {
			return
		}
		// Check never panics, whatever the schema holds.
		s.Check(&logRegSig)
		// What parses can be written as a manifest's JSON and read back.
		b, err := json.Marshal(s)
		if err != nil {
			return // NaN or infinite bounds, which JSON cannot hold and Check refuses
		}
		again, err := modelstore.ParseSchema(b)
		if err != nil {
			t.Fatalf("ParseSchema(%q) = %v, reading back %s", data, err, b)
		}
		if b2, _ := json.Marshal(again); string(b2) != string(b) {
			t.Fatalf("ParseSchema(%q) wrote %s, then %s", data, b, b2)
		}
	})
}

// TestGateReadsRecordFields: with a schema, eval.csv holds the records'
// fields (a category by value, one-hot encoded, and a bool), and the gate
// encodes them as the schema says.
func TestGateReadsRecordFields(t *testing.T) {
	dir := t.TempDir()
	// Columns: amount, red, blue, flag. The label is 1 exactly for blue.
	model := (&onnx.LogReg{Weights: []float32{0, -4, 4, 0}, Bias: []float32{0}}).Model().Marshal()
	features := []modelstore.Feature{
		{Name: "colour", Type: "category", Values: []string{"red", "blue"}, Encoding: "one_hot", Position: 1},
		{Name: "amount", Type: "number", Position: 0},
		{Name: "flag", Type: "bool", Position: 3},
	}
	eval := []byte("flag,label,colour,amount\ntrue,1,blue,3\nfalse,0,red,-1\n0,1,blue,0.5\n1,0,red,2\nFALSE,0,red,0\n")
	if _, err := modelstore.Publish(dir, "m", model, modelstore.PublishOptions{Features: features, EvalCSV: eval, EvalLabel: "label"}); err != nil {
		t.Fatal(err)
	}
	writePolicy(t, dir, "m", "gate:\n  metrics:\n    accuracy: {min: 1}\n")
	rec := &verdicts{}
	st := openWatching(t, modelstore.Config{Dir: dir, Verdicts: rec})
	if got := serving(st, "m"); got != 1 {
		t.Fatalf("serving %d (%s); want 1", got, states(st, "m"))
	}
	if v := rec.of("m", 1); v == nil || !v.Pass || v.Rows != 5 || metricOf(t, v, "accuracy").Candidate != 1 {
		t.Fatalf("verdict %+v; want a pass over 5 rows with accuracy 1", v)
	}
}
