package modelstore_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
)

func TestParsePolicyRetrainSuccess(t *testing.T) {
	f := func(in string, want modelstore.RetrainPolicy) {
		t.Helper()
		p, err := modelstore.ParsePolicy([]byte(in))
		if err != nil {
			t.Fatalf("ParsePolicy(%q) = %v", in, err)
		}
		got := p.Retrain
		if got == nil || !slices.Equal(got.On, want.On) || !slices.Equal(got.Command, want.Command) ||
			got.Cooldown != want.Cooldown || got.Timeout != want.Timeout {
			t.Errorf("ParsePolicy(%q).Retrain = %+v; want %+v", in, got, want)
		}
	}
	f(`
retrain:
  on: [drift, accuracy_drop, estimated_accuracy_drop]
  command: ["python3", "retrain.py", "--fast"]
  cooldown: 2h
  timeout: 10m
`, modelstore.RetrainPolicy{On: []string{"drift", "accuracy_drop", "estimated_accuracy_drop"},
		Command: []string{"python3", "retrain.py", "--fast"}, Cooldown: 2 * time.Hour, Timeout: 10 * time.Minute})
	f("retrain:\n  on: [drift]\n  command: [/bin/true]\n", modelstore.RetrainPolicy{On: []string{"drift"},
		Command: []string{"/bin/true"}, Cooldown: modelstore.DefaultRetrainCooldown, Timeout: modelstore.DefaultRetrainTimeout})
	f("retrain:\n  on: [accuracy_drop]\n  command: [sh, x.sh]\n  cooldown: 0s\n", modelstore.RetrainPolicy{On: []string{"accuracy_drop"},
		Command: []string{"sh", "x.sh"}, Cooldown: 0, Timeout: modelstore.DefaultRetrainTimeout})

	for _, in := range []string{"", "retrain:\n", "gate:\n  batch_rows: 10\n"} {
		p, err := modelstore.ParsePolicy([]byte(in))
		if err != nil || p.Retrain != nil {
			t.Errorf("ParsePolicy(%q) = %+v, %v; want no retrain block", in, p, err)
		}
	}
	p, _ := modelstore.ParsePolicy([]byte("retrain:\n  on: [drift]\n  command: [x]\n"))
	if !p.Retrain.Fires("drift") || p.Retrain.Fires("accuracy_drop") || (*modelstore.RetrainPolicy)(nil).Fires("drift") {
		t.Errorf("Fires disagrees with on: [drift]")
	}
}

func TestParsePolicyRetrainFailure(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := modelstore.ParsePolicy([]byte(in))
		if !errors.Is(err, modelstore.ErrPolicy) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePolicy(%q) = %v; want ErrPolicy mentioning %q", in, err, want)
		}
	}
	const cmd = "  command: [x]\n"
	f("retrain:\n  on: [drift]\n  comand: [x]\n", `retrain: line 3: unknown key "comand" (did you mean "command"?)`)
	f("retrain:\n  on: [drift, retrain_now]\n"+cmd, `retrain: on: line 2: "retrain_now" is not one of drift, accuracy_drop, estimated_accuracy_drop`)
	f("retrain:\n  on: [drift, drift]\n"+cmd, `retrain: on: line 2: "drift" given twice`)
	f("retrain:\n  on: []\n"+cmd, "retrain: on: line 2: empty")
	f("retrain:\n  on: drift\n"+cmd, "retrain: on: line 2: want a list of alarms")
	f("retrain:\n"+cmd, "retrain: on: line 2: required")
	f("retrain:\n  on: [drift]\n", "retrain: command: line 2: required")
	f("retrain:\n  on: [drift]\n  command: []\n", "retrain: command: line 3: empty")
	f("retrain:\n  on: [drift]\n  command: ['']\n", "retrain: command: line 3: empty")
	f("retrain:\n  on: [drift]\n  command: python3 retrain.py\n", "retrain: command: line 3: want a list of strings")
	f("retrain:\n  on: [drift]\n  command: [[a]]\n", "retrain: command: line 3: item 0: want a list of strings")
	f("retrain:\n  on: [drift]\n"+cmd+"  cooldown: -1h\n", "retrain: cooldown: line 2: -1h0m0s: must not be negative")
	f("retrain:\n  on: [drift]\n"+cmd+"  cooldown: 1\n", "retrain: cooldown: line 4: want a duration")
	f("retrain:\n  on: [drift]\n"+cmd+"  timeout: 0s\n", "retrain: timeout: line 2: 0s: must be positive")
	f("retrain:\n  on: [drift]\n"+cmd+"  timeout: -5m\n", "retrain: timeout: line 2: -5m0s: must be positive")
	f("retrain:\n  on: [drift]\n"+cmd+"  timeout: soon\n", "retrain: timeout: line 4")
	f("retrain:\n  on: [drift]\n"+cmd+cmd, "retrain: line 4: command given twice")
	f("retrain: yes\n", "retrain: line 1: want a mapping")
}

// FuzzParsePolicyRetrain holds every retrain block ParsePolicy accepts to
// the rules: known alarms, each once; a program to run; a cooldown not
// negative and a timeout that ends.
func FuzzParsePolicyRetrain(f *testing.F) {
	f.Add([]byte("retrain:\n  on: [drift, accuracy_drop, estimated_accuracy_drop]\n  command: [\"python3\", \"retrain.py\"]\n  cooldown: 1h\n  timeout: 30m\n"))
	f.Add([]byte("retrain:\n  on: [drift]\n  command: [/bin/true]\n"))
	f.Add([]byte("retrain: {on: [accuracy_drop], command: [sh, -c, 'exit 0'], cooldown: 0s, timeout: 1ms}\n"))
	f.Add([]byte("retrain:\n  on: &a [drift]\n  command: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := modelstore.ParsePolicy(data)
		if err != nil || p.Retrain == nil {
			return
		}
		r := p.Retrain
		if len(r.On) == 0 || len(r.Command) == 0 || r.Command[0] == "" || r.Cooldown < 0 || r.Timeout <= 0 {
			t.Fatalf("accepted %+v", r)
		}
		for i, on := range r.On {
			if !r.Fires(on) || slices.Contains(r.On[:i], on) || !slices.Contains([]string{"drift", "accuracy_drop", "estimated_accuracy_drop"}, on) {
				t.Fatalf("accepted on %v", r.On)
			}
		}
	})
}
