package server

import (
	"bytes"
	"slices"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
)

// decodeFull decodes body with the full decoder alone.
func decodeFull(body []byte, sig *engine.Signature, r *inferRequest) error {
	r.reset()
	p := codecParsers.Get()
	defer codecParsers.Put(p)
	return decodeParsed(p, body, nil, sig, r)
}

// sameRequest reports how two decoded requests differ, or "".
func sameRequest(a, b *inferRequest) string {
	switch {
	case (a.id == nil) != (b.id == nil) || !bytes.Equal(a.id, b.id):
		return "id"
	case !slices.Equal(a.outputs, b.outputs):
		return "outputs"
	case a.timeout != b.timeout:
		return "timeout"
	case len(a.inputs) != len(b.inputs):
		return "input count"
	}
	for i := range a.inputs {
		x, y := &a.inputs[i], &b.inputs[i]
		if x.Name != y.Name || x.DType != y.DType || !slices.Equal(x.Shape, y.Shape) || !bytes.Equal(x.Data, y.Data) {
			return "input " + x.Name
		}
	}
	return ""
}

// FuzzFastDecode checks that the fast path never accepts a request the full
// decoder refuses, and decodes whatever it accepts exactly as the full
// decoder does.
func FuzzFastDecode(f *testing.F) {
	for _, s := range append(codecFuzzSeeds, codecFuzzBadSeeds...) {
		f.Add([]byte(s))
	}
	f.Add([]byte(` { "inputs" : [ { "data" : [ [1, 2], [3, 4] ] , "datatype" : "FP32", "shape" : [2, 2], "name" : "x" } ] , "id" : "q" } `))
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"BOOL","data":[true,0]}]}`))
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"INT32","data":[1.0,2e0]}]}`))
	sigs := codecFuzzSigs()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, sig := range sigs {
			var fast, full inferRequest
			if !fastDecode(body, sig, &fast) {
				continue
			}
			if err := decodeFull(body, sig, &full); err != nil {
				t.Fatalf("fast path accepted %q, which the full decoder refuses: %v", body, err)
			}
			if diff := sameRequest(&fast, &full); diff != "" {
				t.Fatalf("fast path and full decoder differ on %s for %q", diff, body)
			}
		}
	})
}

// TestFastPathTaken checks that the requests clients usually send take the
// fast path, and that the fast path declines what it must leave to the full
// decoder.
func TestFastPathTaken(t *testing.T) {
	sig := codecSig()
	f := func(body string, want bool) {
		t.Helper()
		var r inferRequest
		if got := fastDecode([]byte(body), sig, &r); got != want {
			t.Errorf("fastDecode(%s) = %v; want %v", body, got, want)
		}
	}
	row := `[0.1,-2.5e-3,3]`
	f(`{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":`+row+`}]}`, true)
	f(`{"id":"abc","inputs":[{"data":[`+row+`],"datatype":"FP32","shape":[1,3],"name":"input"}]}`, true)
	f(`{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":`+row+`}],"outputs":[{"name":"label"}]}`, false)
	f(`{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":`+row+`}],"parameters":{"timeout":5}}`, false)
	f(`{"id":"a\"b","inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":`+row+`}]}`, false)
	f(`{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP64","data":`+row+`}]}`, false)
	f(`{"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":`+row+`}]}`, false)
	f(`{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":`+row+`,"data":`+row+`}]}`, false)
	f(`{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,"3"]}]}`, false)
	f(`{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":`+row+`}]} x`, false)
}
