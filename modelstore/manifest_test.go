package modelstore_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/modelstore"
)

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestParseManifestSuccess(t *testing.T) {
	f := func(in string, check func(*modelstore.Manifest) bool) {
		t.Helper()
		m, err := modelstore.ParseManifest([]byte(in))
		if err != nil {
			t.Fatalf("ParseManifest(%s) = %v", in, err)
		}
		if !check(m) {
			t.Fatalf("ParseManifest(%s) = %+v", in, m)
		}
	}
	f(`{"sha256":"`+sha+`"}`, func(m *modelstore.Manifest) bool { return m.SHA256 == sha })
	f(`{"sha256":"`+sha+`","from_the_future":{"x":1},"description":"card"}`, func(m *modelstore.Manifest) bool {
		return m.Description == "card"
	})
	f(`{"sha256":"`+sha+`","signature":{"inputs":[{"name":"x","datatype":"INT64","shape":[-1,3]}],"outputs":[]}}`,
		func(m *modelstore.Manifest) bool { return m.Signature.Inputs[0].Shape[1] == 3 })
	f(`{"sha256":"`+sha+`","lineage":{"run_id":"r1","params":{"lr":"0.1"},"metrics":{"auc":0.91},"seed":7}}`,
		func(m *modelstore.Manifest) bool { return m.Lineage.RunID == "r1" && *m.Lineage.Seed == 7 })
}

func TestParseManifestFailure(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := modelstore.ParseManifest([]byte(in))
		if !errors.Is(err, modelstore.ErrManifest) || !strings.Contains(err.Error(), want) {
			t.Fatalf("ParseManifest(%s) = %v; want ErrManifest mentioning %q", in, err, want)
		}
	}
	f(``, "unexpected end of JSON")
	f(`[]`, "cannot unmarshal array")
	f(`{}`, "missing required field sha256")
	f(`{"sha256":"abc"}`, "not 64 hex digits")
	f(`{"sha256":"`+sha+`","version":-1}`, "not positive")
	f(`{"sha256":"`+sha+`","signature":{"inputs":[{"name":"x","datatype":"FP16","shape":[1]}]}}`, `unknown datatype "FP16"`)
	f(`{"sha256":"`+sha+`","version":"2"}`, "cannot unmarshal string")
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"sha256":"` + sha + `","model":"fraud","version":2,"signature":{"inputs":[{"name":"x","datatype":"FP32","shape":[-1,8]}],"outputs":[{"name":"y","datatype":"FP32","shape":[-1,2]}]}}`))
	f.Add([]byte(`{"sha256":"` + sha + `","features":[{"name":"amount","type":"number","min":0,"position":0}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := modelstore.ParseManifest(data)
		if err != nil {
			return
		}
		// Whatever parses must encode and parse back to the same thing.
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		m2, err := modelstore.ParseManifest(again)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", again, err)
		}
		if m2.SHA256 != m.SHA256 || m2.Version != m.Version || m2.Model != m.Model {
			t.Fatalf("round trip changed %+v into %+v", m, m2)
		}
	})
}
