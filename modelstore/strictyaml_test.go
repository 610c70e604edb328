package modelstore_test

import (
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// TestPolicyDidYouMean: a mistyped key or metric in policy.yaml is
// refused with the name it most likely meant.
func TestPolicyDidYouMean(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := modelstore.ParsePolicy([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePolicy(%q) = %v; want it to contain %q", in, err, want)
		}
	}
	f("rollout:\n  stpes: [10, 100]\n", `unknown key "stpes" (did you mean "steps"?)`)
	f("rollout:\n  shadow:\n    min_agrement: 0.9\n", `(did you mean "min_agreement"?)`)
	f("gate:\n  metrics:\n    acu: {min: 0.7}\n", `unknown metric (did you mean "auc"?)`)
	// Nothing near: no guess.
	f("rollout:\n  colour: red\n", `unknown key "colour"`)
}
