package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// TestPolicyInitDefaults checks that the policy.yaml policy init writes
// parses and, applied, gives exactly the defaults: the rollout block
// rollout.DefaultPolicy, the gate block the gate's defaults, the batching
// block serve's.
func TestPolicyInitDefaults(t *testing.T) {
	text, err := runCmd(t, "policy", "init")
	if err != nil {
		t.Fatalf("policy init = %v\n%s", err, text)
	}
	p, err := modelstore.ParsePolicy([]byte(text))
	if err != nil {
		t.Fatalf("ParsePolicy(policy init's file) = %v\n%s", err, text)
	}
	if got, want := p.Rollout.Apply(rollout.DefaultPolicy()), rollout.DefaultPolicy(); !reflect.DeepEqual(got, want) {
		t.Errorf("the rollout block applies as %+v; want the defaults %+v", got, want)
	}
	// The rollout block applied over other defaults gives the built-in
	// ones: every setting is written out.
	other := rollout.DefaultPolicy()
	other.Bake, other.KeepPrevious, other.Steps = 7*time.Second, 3, []int{10000}
	if got, want := p.Rollout.Apply(other), rollout.DefaultPolicy(); !reflect.DeepEqual(got, want) {
		t.Errorf("the rollout block over other defaults applies as %+v; want the built-in defaults %+v", got, want)
	}
	positive := gate.DefaultPositiveClass
	wantGate := gate.Policy{PositiveClass: &positive, BatchRows: gate.DefaultBatchRows, Concurrency: gate.DefaultConcurrency, MaxRows: gate.DefaultMaxRows}
	if !reflect.DeepEqual(p.Gate, wantGate) {
		t.Errorf("the gate block is %+v; want %+v", p.Gate, wantGate)
	}
	b := p.Batching
	if b.MaxBatchSize == nil || *b.MaxBatchSize != batcher.DefaultMaxBatchSize || b.MaxQueueDelay == nil || *b.MaxQueueDelay != 0 ||
		b.MaxQueueSize == nil || *b.MaxQueueSize != batcher.DefaultMaxQueueSize || b.Timeout == nil || *b.Timeout != 0 ||
		b.Executors != nil || b.PreferredBatchSizes != nil {
		t.Errorf("the batching block is %+v; want serve's defaults", b)
	}
	if p.Cost.PerCoreHour != nil {
		t.Errorf("the cost block sets per_core_hour %v; want it commented out, serve's --cost-per-core-hour in force", *p.Cost.PerCoreHour)
	}
	if c, err := modelstore.ParsePolicy([]byte(strings.Replace(text, "# per_core_hour: 0.048", "per_core_hour: 0.048", 1))); err != nil || c.Cost.Price(0) != 0.048 {
		t.Errorf("policy init's cost block, uncommented, = %v; want per_core_hour 0.048", err)
	}
}

// TestPolicyInitWritesEveryKey checks that every key policy.yaml reads is
// in the file policy init writes, set or (where its default cannot be
// written as a value) commented out, and that every rollout key has its
// comment, so that a setting added to modelstore.RolloutPolicy is not
// silently left out.
func TestPolicyInitWritesEveryKey(t *testing.T) {
	text, err := runCmd(t, "policy", "init")
	if err != nil {
		t.Fatal(err)
	}
	optional := map[string]bool{ // defaults that are no value: commented out
		"gate.label": true, "gate.require_eval": true, "gate.slices": true, "gate.metrics": true,
		"batching.preferred_batch_sizes": true, "batching.executors": true,
		"cost.per_core_hour": true,
	}
	var walk func(tp reflect.Type, path string)
	walk = func(tp reflect.Type, path string) {
		for i := range tp.NumField() {
			sf := tp.Field(i)
			key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
			if key == "" || key == "-" || key == "drift" {
				continue
			}
			full := path + key
			prefix := `(?m)^ *`
			if optional[full] {
				prefix = `(?m)^ *# `
			}
			if !regexp.MustCompile(prefix + regexp.QuoteMeta(key) + `:`).MatchString(text) {
				t.Errorf("policy init writes no %s: add it to appendPolicyYAML in policy_init.go", full)
			}
			if strings.HasPrefix(full, "rollout.") && !strings.Contains(full, ".shadow.") {
				if _, ok := rolloutComments[strings.TrimPrefix(full, "rollout.")]; !ok {
					t.Errorf("policy init writes %s without a comment: add one to rolloutComments in policy_init.go", full)
				}
			}
			if sf.Type.Kind() == reflect.Struct && sf.Type != reflect.TypeFor[modelstore.Duration]() {
				walk(sf.Type, full+".")
			}
		}
	}
	walk(reflect.TypeFor[modelstore.Policy](), "")
	if strings.Contains(text, "no default known to policy init") {
		t.Errorf("policy init found no default for a rollout key (rollout.Policy has no field of its name):\n%s", text)
	}
}

// TestPolicyInitCommand checks --on-publish, --out and bad command lines.
func TestPolicyInitCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "policy.yaml")
	if msg, err := runCmd(t, "policy", "init", "--on-publish", rollout.Canary, "--out", out); err != nil {
		t.Fatalf("policy init --on-publish canary = %v\n%s", err, msg)
	}
	p, err := modelstore.ReadPolicy(out)
	if err != nil {
		t.Fatal(err)
	}
	want := rollout.DefaultPolicy()
	want.OnPublish = rollout.Canary
	if got := p.Rollout.Apply(rollout.DefaultPolicy()); !reflect.DeepEqual(got, want) {
		t.Errorf("policy init --on-publish canary applies as %+v; want %+v", got, want)
	}
	msg, err := runCmd(t, "policy", "init", "--out", out)
	if err == nil || !strings.Contains(err.Error(), "exists: remove it, or pass --force") {
		t.Errorf("policy init over an existing --out = %v (%s); want a refusal", err, msg)
	}
	if msg, err := runCmd(t, "policy", "init", "--out", out, "--force"); err != nil {
		t.Errorf("policy init --force = %v\n%s", err, msg)
	}
	if data, _ := os.ReadFile(out); !strings.Contains(string(data), "on_publish: "+rollout.DefaultPolicy().OnPublish+"\n") {
		t.Errorf("policy init --force did not write the default on_publish:\n%s", data)
	}
	for _, args := range [][]string{{"policy"}, {"policy", "make"}, {"policy", "init", "--on-publish", "sometimes"}, {"policy", "init", "extra"}} {
		if msg, err := runCmd(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%v = %v; want a usage error\n%s", args, err, msg)
		}
	}
}

func TestFormatSettings(t *testing.T) {
	f := func(got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("got %q; want %q", got, want)
		}
	}
	f(formatWeight(500), "5%")
	f(formatWeight(1250), "12.5%")
	f(formatWeight(1), "0.01%")
	f(formatWeight(10000), "100%")
	f(formatDuration(60*time.Second), "1m")
	f(formatDuration(90*time.Second), "90s")
	f(formatDuration(time.Millisecond), "1ms")
	f(formatDuration(2*time.Hour), "2h")
	f(formatDuration(0), "0s")
	f(formatDuration(1500*time.Microsecond), "1.5ms")
	for _, bp := range []int{1, 5, 50, 500, 1250, 3333, 10000} {
		if w, err := rollout.ParseWeight(formatWeight(bp)); err != nil || w != bp {
			t.Errorf("ParseWeight(formatWeight(%d)) = %d, %v", bp, w, err)
		}
	}
}
