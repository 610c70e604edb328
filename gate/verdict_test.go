package gate_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/gate"
)

func TestNumberJSON(t *testing.T) {
	f := func(n gate.Number, want string) {
		t.Helper()
		b, err := json.Marshal(n)
		if err != nil || string(b) != want {
			t.Fatalf("Marshal(%v) = %s, %v; want %s", float64(n), b, err, want)
		}
		var back gate.Number
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if math.IsInf(float64(n), 0) {
			n = gate.Number(math.NaN()) // null reads back as NaN
		}
		if back != n && !(math.IsNaN(float64(back)) && math.IsNaN(float64(n))) {
			t.Fatalf("Unmarshal(%s) = %v; want %v", b, float64(back), float64(n))
		}
	}
	f(0.1, "0.1")
	f(0, "0")
	f(-2.5e-300, "-2.5e-300")
	f(12345.678, "12345.678")
	f(gate.Number(math.Pi), "3.141592653589793")
	f(gate.Number(math.NaN()), "null")
	f(gate.Number(math.Inf(1)), "null")
	f(gate.Number(math.Inf(-1)), "null")

	var n gate.Number
	if err := json.Unmarshal([]byte(`"0.5"`), &n); err == nil {
		t.Fatalf(`Unmarshal("0.5") = %v; want an error`, float64(n))
	}
}

func TestVerdictJSON(t *testing.T) {
	v := &gate.Verdict{Candidate: "version 4", Stable: "version 3", Rows: 100,
		Metrics: []gate.Metric{{Name: "auc", Rows: 100, Candidate: 0.8, Stable: gate.Number(math.NaN()),
			GreaterIsBetter: true, Threshold: &gate.Threshold{Min: ptr(0.9)}}},
		Reasons: []string{"auc of version 4 is 0.8, below the minimum 0.9."}}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"candidate":0.8,"stable":null`) {
		t.Fatalf("Marshal = %s; want the NaN stable value as null", b)
	}
	var back gate.Verdict
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	m := back.Metrics[0]
	if back.Candidate != v.Candidate || back.Rows != 100 || m.Candidate != 0.8 || !math.IsNaN(float64(m.Stable)) ||
		*m.Threshold.Min != 0.9 || back.Reasons[0] != v.Reasons[0] {
		t.Fatalf("round trip = %+v; want %+v", back, v)
	}
}
