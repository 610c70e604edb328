package mlflow

import (
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/modelstore"
)

func TestMLmodelFeatures(t *testing.T) {
	f := func(inputs string, want []modelstore.Feature, note, errText string) {
		t.Helper()
		m := &mlModel{}
		if inputs != "-" {
			m.Signature = &struct {
				Inputs  *string `yaml:"inputs"`
				Outputs *string `yaml:"outputs"`
			}{Inputs: &inputs}
		}
		got, gotNote, err := m.features()
		switch {
		case errText != "":
			if err == nil || !strings.Contains(err.Error(), errText) {
				t.Errorf("features(%s) = %v; want an error saying %q", inputs, err, errText)
			}
		case err != nil || !reflect.DeepEqual(got, want) || !strings.Contains(gotNote, note) || note == "" && gotNote != "":
			t.Errorf("features(%s) = %+v, %q, %v; want %+v, %q", inputs, got, gotNote, err, want, note)
		}
	}
	f(`[{"type": "double", "name": "amount", "required": true}, {"type": "long", "name": "age", "required": true},
		{"type": "float", "name": "score"}, {"type": "integer", "name": "n"}, {"type": "boolean", "name": "vip"}]`,
		[]modelstore.Feature{{Name: "amount", Type: "number"}, {Name: "age", Type: "integer", Position: 1},
			{Name: "score", Type: "number", Position: 2}, {Name: "n", Type: "integer", Position: 3}, {Name: "vip", Type: "bool", Position: 4}}, "", "")
	f("-", nil, "has no input signature", "")
	f(`[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]`, nil, "tensor-based", "")
	f(`[{"type": "double", "name": "a"}, {"type": "string", "name": "country"}]`, nil, `column "country" of the MLmodel's input signature is of type "string"`, "")
	f(`[{"type": "datetime", "name": "at"}]`, nil, `no such type`, "")
	f(`[{"type": "double"}]`, nil, "has no name", "")
	f(`[]`, nil, "is empty", "")
	f(`{"a": 1}`, nil, "", "not a JSON list")
	f(`[{"type": "double", "name": "a"`, nil, "", "not a JSON list")
}

func TestParseMLmodel(t *testing.T) {
	m, data, err := parseMLmodel([]byte("flavors:\n  onnx:\n    data: net.onnx\nmetadata:\n  classes: [legit, fraud]\nrun_id: r1\n"))
	if err != nil || data != "net.onnx" || m.RunID != "r1" || !reflect.DeepEqual(m.classes(), []string{"legit", "fraud"}) {
		t.Fatalf("parseMLmodel = %+v, %q, %v", m, data, err)
	}
	for text, want := range map[string]string{
		"flavors:\n  onnx:\n    onnx_version: 1.15.0\n": "names no data file",
		"flavors: {}\n":        "has no onnx flavor (flavors: none)",
		"flavors:\n  - onnx\n": "not valid YAML",
		"run_id: [\n":          "not valid YAML",
	} {
		if _, _, err := parseMLmodel([]byte(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseMLmodel(%q) = %v; want %q", text, err, want)
		}
	}
}

// FuzzMLmodel feeds parseMLmodel and the signature's columns arbitrary
// text: nothing may panic, and every feature has a name and a type.
func FuzzMLmodel(f *testing.F) {
	f.Add("flavors:\n  onnx:\n    data: model.onnx\nsignature:\n  inputs: '[{\"type\": \"double\", \"name\": \"a\"}]'\n")
	f.Add("flavors:\n  onnx:\n    data: model.onnx\nsignature:\n  inputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, 3]}}]'\n")
	f.Add("flavors: {onnx: {data: m.onnx}}\nmetadata: {classes: [a, 1]}\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, _, err := parseMLmodel([]byte(text))
		if err != nil {
			return
		}
		m.classes()
		features, _, _ := m.features()
		for i, ft := range features {
			if ft.Name == "" || ft.Type == "" || ft.Position != i {
				t.Fatalf("feature %d = %+v", i, ft)
			}
		}
	})
}
