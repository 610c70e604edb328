package modelstore

import (
	"strings"
	"testing"
)

func TestCostPolicyBlock(t *testing.T) {
	f := func(body string, def, want float64) {
		t.Helper()
		p, err := ParsePolicy([]byte(body))
		if err != nil {
			t.Fatalf("ParsePolicy(%q) = %v", body, err)
		}
		if got := p.Cost.Price(def); got != want {
			t.Errorf("ParsePolicy(%q).Cost.Price(%v) = %v; want %v", body, def, got, want)
		}
	}
	f("cost: {per_core_hour: 0.048}\n", 1, 0.048)
	f("cost:\n  per_core_hour: 2\n", 0, 2)
	f("cost: {per_core_hour: 0}\n", 1, 0) // the policy wins: no price for this model
	f("cost:\n  # per_core_hour: 0.05\n", 0.5, 0.5)
	f("", 0.5, 0.5)
	for body, want := range map[string]string{
		"cost:\n  per_core_hour: -1\n":                    "per_core_hour is -1",
		"cost:\n  per_core_hour: .inf\n":                  "per_core_hour is +Inf",
		"cost:\n  per_core_hour: .nan\n":                  "per_core_hour is NaN",
		"cost:\n  per_core_hour: cheap\n":                 "per_core_hour",
		"cost:\n  per_core_hour: [1]\n":                   "per_core_hour",
		"cost:\n  per_core: 1\n":                          `unknown key "per_core"`,
		"cost: 0.05\n":                                    "cost",
		"cost:\n  per_core_hour: 1\n  per_core_hour: 2\n": "given twice",
	} {
		_, err := ParsePolicy([]byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePolicy(%q) = %v; want an error naming %q", body, err, want)
		}
	}
}
