package modelstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/modelstore"
)

func TestParsePolicyDrift(t *testing.T) {
	p, err := modelstore.ParsePolicy([]byte(`
drift:
  sample: 0.25
  window_rows: 1000
  window: 5m
  interval: 10s
  dataset_share: 0.3
  features:
    amount: {test: psi, threshold: 0.2}
    country: {threshold: 0.01}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := p.Drift.Apply(drift.DefaultPolicy())
	if got.Sample != 0.25 || got.WindowRows != 1000 || got.Window != 5*time.Minute || got.Interval != 10*time.Second ||
		got.DatasetShare != 0.3 || len(got.Features) != 2 ||
		got.Features["amount"] != (drift.Override{Test: drift.PSI, Threshold: 0.2}) || got.Features["country"] != (drift.Override{Threshold: 0.01}) {
		t.Fatalf("drift policy = %+v", got)
	}
	empty, err := modelstore.ParsePolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := empty.Drift.Apply(drift.DefaultPolicy()); got.Sample != 1 || got.WindowRows != 5000 || got.Window != 10*time.Minute ||
		got.Interval != 30*time.Second || got.DatasetShare != 0.5 || got.Features != nil {
		t.Fatalf("default drift policy = %+v", got)
	}
}

func TestParsePolicyDriftFailure(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := modelstore.ParsePolicy([]byte(in))
		if !errors.Is(err, modelstore.ErrPolicy) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePolicy(%q) = %v; want ErrPolicy mentioning %q", in, err, want)
		}
	}
	f("drift:\n  sampel: 0.5\n", `drift: line 2: unknown key "sampel" (did you mean "sample"?)`)
	f("drift:\n  sample: 0\n", "drift: sample 0: must be in (0, 1]")
	f("drift:\n  sample: 1.5\n", "sample 1.5")
	f("drift:\n  sample: 50%\n", "drift: sample: line 2")
	f("drift:\n  window_rows: 0\n", "window_rows 0")
	f("drift:\n  window_rows: 2.5\n", "window_rows: line 2: \"2.5\": want an integer")
	f("drift:\n  window: soon\n", "drift: window: line 2")
	f("drift:\n  window: -1m\n", "window -1m0s: must be positive")
	f("drift:\n  interval: 0s\n", "interval 0s: must be positive")
	f("drift:\n  dataset_share: 2\n", "dataset_share 2")
	f("drift:\n  features: [amount]\n", "drift: features: line 2: want a mapping")
	f("drift:\n  features:\n    amount: {tst: ks}\n", `drift: features: amount: line 3: unknown key "tst"`)
	f("drift:\n  features:\n    amount: {test: anova}\n", `features: amount: test "anova"`)
	f("drift:\n  features:\n    amount: {threshold: -1}\n", "features: amount: threshold -1")
	f("drift:\n  features:\n    amount: {test: ks}\n    amount: {test: psi}\n", "amount given twice")
	f("drift:\n  sample: 0.5\n  sample: 0.5\n", "sample given twice")
	f("drift: yes\n", "drift: line 1: want a mapping")
}
