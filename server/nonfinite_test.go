package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNonFiniteTokensOverHTTP sends the bare NaN, Infinity and -Infinity
// that Python's json.dumps writes, over loopback: the records API answers
// 422 with a not_finite problem naming each field, V2 a 400 naming the
// tensor and the element, and neither calls the body malformed.
func TestNonFiniteTokensOverHTTP(t *testing.T) {
	ts := startRecordsServer(t)
	f := func(path, body string, status int, want string) {
		t.Helper()
		r := ts.do(t, "POST", path, body)
		if r.status != status || !strings.Contains(string(r.body), want) || !json.Valid(r.body) {
			t.Errorf("POST %s %s = %d %s; want %d with %s", path, body, r.status, r.body, status, want)
		}
	}
	const predict, infer = "/v1/models/fraud:predict", "/v2/models/fraud/infer"
	f(predict, `{"instances": [{"amount": Infinity, "hour": 3, "country": "FR"}, {"amount": -Infinity, "hour": 3, "country": "FR"}]}`, 422,
		`{"error":"2 problems in 2 instances","problems":[`+
			`{"instance":0,"field":"amount","problem":"not_finite","message":"amount Infinity is not a finite number"},`+
			`{"instance":1,"field":"amount","problem":"not_finite","message":"amount -Infinity is not a finite number"}]}`)
	f(predict, `{"instances": [{"amount": 12.5, "hour": NaN, "country": "FR"}]}`, 422,
		`{"instance":0,"field":"hour","problem":"not_finite","message":"hour NaN is not a finite number"}`)
	f(infer, `{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 6], "data": [1, 2, Infinity, 0, 0, 0]}]}`, 400,
		`{"error":"input \"input\": data[2] = Infinity is not finite; JSON cannot carry NaN or infinities, binary data can"}`)
	f(infer, `{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 6], "data": [[1, 2, 3, -Infinity, 0, NaN]]}]}`, 400,
		`data[3] = -Infinity is not finite`)
}

// TestSpellInfinity checks which Infinity tokens parseLenient reads as
// Inf: bare ones where a value stands, never those in strings or inside
// a longer word.
func TestSpellInfinity(t *testing.T) {
	f := func(body, want string) {
		t.Helper()
		got := spellInfinity([]byte(body))
		if want == "" && got != nil || want != "" && string(got) != want {
			t.Errorf("spellInfinity(%s) = %q; want %q", body, got, want)
		}
	}
	f(`[1,2]`, "")
	f(`Infinity`, `Inf     `)
	f(`[Infinity,-Infinity, Infinity]`, `[Inf     ,-Inf     , Inf     ]`)
	f(`{"a":Infinity}`, `{"a":Inf     }`)
	f(`{"a": -Infinity , "b":[Infinity]}`, `{"a": -Inf      , "b":[Inf     ]}`)
	f(`{"Infinity":"Infinity"}`, "")
	f(`{"a":"x\"Infinity"}`, "")
	f(`{"a":"\\",Infinity:1}`, "") // a key must be a string: left to fastjson
	f(`[xInfinity,Infinityx,1Infinity,Infinit]`, "")
	f(`["Infinity`, "")
}
