package modelstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

func TestParsePolicySuccess(t *testing.T) {
	p, err := modelstore.ParsePolicy([]byte(`
batching:
  max_batch_size: 32
  max_queue_delay: 500us
  preferred_batch_sizes: [8, 16]
  executors: 3
  max_queue_size: 100
  timeout: 2s
rollout:
  keep_previous: 2
gate:
  label: is_fraud
  metrics:
    auc: {min: 0.8, max_regression: 0.01}
`))
	if err != nil {
		t.Fatal(err)
	}
	b := p.Batching
	if *b.MaxBatchSize != 32 || time.Duration(*b.MaxQueueDelay) != 500*time.Microsecond || len(b.PreferredBatchSizes) != 2 ||
		*b.Executors != 3 || *b.MaxQueueSize != 100 || time.Duration(*b.Timeout) != 2*time.Second {
		t.Fatalf("batching = %+v", b)
	}
	if k := p.Rollout.KeepPrevious; k == nil || *k != 2 {
		t.Fatalf("rollout.keep_previous = %v; want 2", k)
	}
	if _, err := modelstore.ParsePolicy(nil); err != nil {
		t.Fatalf("empty policy: %v", err)
	}
}

func TestParsePolicyFailure(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := modelstore.ParsePolicy([]byte(in))
		if !errors.Is(err, modelstore.ErrPolicy) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePolicy(%q) = %v; want ErrPolicy mentioning %q", in, err, want)
		}
	}
	f("batching:\n  max_batch_size: 0\n", "max_batch_size 0")
	f("batching:\n  max_batchsize: 8\n", "max_batchsize")
	f("batching:\n  max_queue_delay: soon\n", "soon")
	f("batching:\n  max_queue_delay: 1h\n", "max_queue_delay")
	f("batching:\n  executors: 0\n", "executors 0")
	f("batching:\n  max_queue_size: -1\n", "max_queue_size")
	f("batching:\n  timeout: -1s\n", "timeout")
	f("batching:\n  max_batch_size: 8\n  preferred_batch_sizes: [16]\n", "exceeds max_batch_size")
	f("batching:\n  preferred_batch_sizes: [0]\n", "not a positive size")
	f("batching: [\n", "yaml")
	f("batchin:\n  max_batch_size: 8\n", "batchin")
	f("gate:\n  min_auc: 0.8\n", "min_auc")
	f("gate:\n  metrics:\n    auc: {mn: 0.8}\n", "mn")
	f("gate:\n  metrics:\n    aucc: {min: 0.8}\n", "gate.metrics.aucc: unknown metric")
	f("gate:\n  metrics:\n    auc: {}\n", "gate.metrics.auc: no threshold")
	f("gate:\n  metrics:\n    auc: {min: 0.9, max: 0.8}\n", "min 0.9 is above max 0.8")
	f("gate:\n  metrics:\n    log_loss: {max_regression_pct: -5}\n", "max_regression_pct: -5 is negative")
	f("gate:\n  metrics:\n    auc: {min: .nan}\n", "gate.metrics.auc.min")
	f("gate:\n  batch_rows: -1\n", "gate.batch_rows")
	f("gate:\n  slices: {min_rows: 10}\n", "gate.slices.feature")
	f("rollout:\n  keep_previous: -1\n", "keep_previous -1")
	f("rollout:\n  keep_previous: 100\n", "keep_previous 100")
	f("rollout:\n  keep_prev: 1\n", "keep_prev")
	f("rollout:\n  keep_previous: many\n", "keep_previous")
	f("rollout:\n  on_publish: blue\n", `on_publish: "blue"`)
	f("rollout:\n  on_publish: 3\n", "on_publish")
	f("rollout:\n  on_publish: [canary]\n", "on_publish")
	f("rollout:\n  steps: 500\n", "steps")
	f("rollout:\n  steps: [500, 2500]\n", "steps: the last step is 2500")
	f("rollout:\n  steps: [25%, 5%, 100%]\n", "steps: step 1 (500) is not above step 0 (2500)")
	f("rollout:\n  steps: [0, 100%]\n", "steps: step 0 is 0 basis points")
	f("rollout:\n  steps: [5.5, 100%]\n", "rollout: steps: line 2: step 0")
	f("rollout:\n  steps: [5 percent, 100%]\n", "step 0: weight \"5 percent\"")
	f("rollout:\n  steps: [0.001%, 100%]\n", "0.001%")
	f("rollout:\n  steps: []\n", "steps: none given")
	f("rollout:\n  steps: [[5%], 100%]\n", "steps")
	f("rollout:\n  bake: soon\n", "rollout: bake: line 2")
	f("rollout:\n  bake: 60\n", "bake: line 2: want a duration")
	f("rollout:\n  bake: 0s\n", "bake: 0s")
	f("rollout:\n  bake:\n", "bake")
	f("rollout:\n  min_requests: 0\n", "min_requests: 0")
	f("rollout:\n  min_requests: lots\n", "min_requests: line 2")
	f("rollout:\n  min_requests: 5.5\n", "min_requests")
	f("rollout:\n  max_error_rate_delta: 2\n", "max_error_rate_delta: 2")
	f("rollout:\n  max_error_rate_delta: 1%\n", "max_error_rate_delta")
	f("rollout:\n  max_p99_ratio: 1.5\n", "max_p99_ratio: line 2: replaced by max_latency_increase")
	f("rollout:\n  max_latency_increase: -0.1\n", "max_latency_increase: -0.1")
	f("rollout:\n  min_latency_delta: -1ms\n", "min_latency_delta: -1ms")
	f("rollout:\n  failure_limit: 0\n", "failure_limit: 0")
	f("rollout:\n  critical_error_rate: 0\n", "critical_error_rate: 0")
	f("rollout:\n  max_bake: -1m\n", "max_bake: -1m")
	f("rollout:\n  min_score_shift: 2\n", "min_score_shift: 2")
	f("rollout:\n  max_score_psi: .nan\n", "max_score_psi: NaN")
	f("rollout:\n  max_score_psi: -1\n", "max_score_psi")
	f("rollout:\n  max_accuracy_drop: 1.5\n", "max_accuracy_drop: 1.5")
	f("rollout:\n  watch: -5m\n", "watch: -5m")
	f("rollout:\n  watch: [5m]\n", "watch")
	f("rollout:\n  shadow: yes\n", "rollout: shadow: line 2: want a mapping")
	f("rollout:\n  shadow:\n    min_requests: 0\n", "shadow.min_requests: 0")
	f("rollout:\n  shadow:\n    min_agreement: 95%\n", "rollout: shadow: min_agreement: line 3")
	f("rollout:\n  shadow:\n    min_agreement: 1.01\n", "shadow.min_agreement: 1.01")
	f("rollout:\n  shadow:\n    then: shadow\n", `shadow.then: "shadow"`)
	f("rollout:\n  shadow:\n    than: canary\n", `rollout: shadow: line 3: unknown key "than"`)
	f("rollout:\n  shadow:\n    min_requests: 10\n    min_requests: 20\n", "min_requests given twice")
	f("rollout:\n  bake: 1m\n  bake: 2m\n", "bake given twice")
	f("rollout:\n  inconclusive_after: 3\n", `unknown key "inconclusive_after"`)
	f("rollout: [canary]\n", "rollout: line 1: want a mapping")
	f("rollout: canary\n", "rollout: line 1: want a mapping")
}

func TestParsePolicyRollout(t *testing.T) {
	p, err := modelstore.ParsePolicy([]byte(`
rollout:
  on_publish: canary
  steps: [1%, 12.5%, 5000, "100%"]
  bake: 2m
  max_bake: 20m
  min_requests: 300
  failure_limit: 3
  keep_previous: 2
  max_error_rate_delta: 0.005
  critical_error_rate: 0.3
  max_latency_increase: 0.5
  min_latency_delta: 2ms
  max_score_psi: 0.1
  min_score_shift: 0.1
  max_accuracy_drop: 0.01
  watch: 10m
  shadow:
    min_requests: 5000
    min_agreement: 0.99
    then: bluegreen
`))
	if err != nil {
		t.Fatal(err)
	}
	def := rollout.DefaultPolicy()
	got := p.Rollout.Apply(def)
	want := rollout.Policy{
		OnPublish: rollout.Canary, Steps: []int{100, 1250, 5000, 10000}, Bake: 2 * time.Minute, MaxBake: 20 * time.Minute,
		MinRequests: 300, FailureLimit: 3, KeepPrevious: 2, MaxErrorRateDelta: 0.005, CriticalErrorRate: 0.3,
		MaxLatencyIncrease: 0.5, MinLatencyDelta: 2 * time.Millisecond, MaxScorePSI: 0.1, MinScoreShift: 0.1, MaxAccuracyDrop: 0.01,
		Watch: 10 * time.Minute, Shadow: rollout.ShadowPolicy{MinRequests: 5000, MinAgreement: 0.99, Then: rollout.BlueGreen},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Apply =\n%+v; want\n%+v", got, want)
	}
	got.Steps[0] = 7
	if p.Rollout.Steps[0] != 100 || !reflect.DeepEqual(def, rollout.DefaultPolicy()) {
		t.Fatal("Apply's result shares Steps with the policy or its defaults")
	}
}

// TestRolloutPolicyApply checks that a setting left out keeps the
// server's default, whatever that default is.
func TestRolloutPolicyApply(t *testing.T) {
	server := rollout.DefaultPolicy()
	server.OnPublish, server.Steps, server.Bake, server.MinRequests = rollout.Shadow, []int{1000, 10000}, 30*time.Second, 50
	server.Shadow.Then, server.FailureLimit = rollout.Canary, 5
	f := func(in string, change func(p *rollout.Policy)) {
		t.Helper()
		p, err := modelstore.ParsePolicy([]byte(in))
		if err != nil {
			t.Fatalf("ParsePolicy(%q) = %v", in, err)
		}
		want := server
		want.Steps = []int{1000, 10000}
		change(&want)
		if got := p.Rollout.Apply(server); !reflect.DeepEqual(got, want) {
			t.Errorf("ParsePolicy(%q).Rollout.Apply = %+v; want %+v", in, got, want)
		}
	}
	f("", func(*rollout.Policy) {})
	f("rollout:\n", func(*rollout.Policy) {})
	f("rollout:\n  shadow:\n", func(*rollout.Policy) {})
	f("rollout: {}\n", func(*rollout.Policy) {})
	f("rollout:\n  on_publish: manual\n", func(p *rollout.Policy) { p.OnPublish = rollout.Manual })
	f("rollout:\n  steps: [100%]\n", func(p *rollout.Policy) { p.Steps = []int{10000} })
	f("rollout:\n  shadow: {then: manual}\n", func(p *rollout.Policy) { p.Shadow.Then = rollout.Manual })
	f("rollout:\n  keep_previous: 0\n  max_error_rate_delta: 0\n", func(p *rollout.Policy) { p.KeepPrevious, p.MaxErrorRateDelta = 0, 0 })
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("batching:\n  max_batch_size: 32\n  max_queue_delay: 1ms\n  preferred_batch_sizes: [8]\n"))
	f.Add([]byte("batching:\n  timeout: 2s\n"))
	f.Add([]byte("rollout:\n  keep_previous: 2\n"))
	f.Add([]byte("rollout:\n  on_publish: canary\n  steps: [5%, 25%, 50%, 100%]\n  bake: 60s\n  min_requests: 500\n"))
	f.Add([]byte("rollout:\n  steps: [500, 2500, 10000]\n  max_error_rate_delta: 0.01\n  max_latency_increase: 0.2\n  min_latency_delta: 1ms\n  failure_limit: 2\n  max_score_psi: 0.2\n  max_accuracy_drop: 0.02\n"))
	f.Add([]byte("rollout:\n  on_publish: bluegreen\n  watch: 5m\n"))
	f.Add([]byte("rollout:\n  on_publish: shadow\n  shadow:\n    min_requests: 1000\n    min_agreement: 0.95\n    then: canary\n"))
	f.Add([]byte("rollout:\n  steps: [0.5%, 12.25%, \"100%\"]\n  shadow: {then: bluegreen}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := modelstore.ParsePolicy(data)
		if err != nil {
			return
		}
		if b := p.Batching; b.MaxBatchSize != nil && *b.MaxBatchSize < 1 {
			t.Fatalf("accepted max_batch_size %d", *b.MaxBatchSize)
		}
		if err := p.Rollout.Apply(rollout.DefaultPolicy()).Validate(); err != nil {
			t.Fatalf("accepted a rollout block that does not validate: %v", err)
		}
	})
}

// TestPolicyAppliesAtLoad checks that policy.yaml overrides the server's
// defaults, and that an invalid one fails the model's versions with a
// message while other models load.
func TestPolicyAppliesAtLoad(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "tuned", small(1))
	testenv.Publish(t, dir, "broken", small(1))
	testenv.Publish(t, dir, "plain", small(1))
	write := func(model, policy string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, model, modelstore.PolicyFile), []byte(policy), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tuned", "batching:\n  max_batch_size: 8\n  timeout: 250ms\n")
	write("broken", "batching:\n  max_batch_size: -3\n")
	st := openStore(t, dir)
	tuned, err := st.Lookup("tuned", 0)
	if err != nil {
		t.Fatal(err)
	}
	if tuned.Batching.MaxBatchSize != 8 || tuned.Batching.Timeout != 250*time.Millisecond {
		t.Fatalf("tuned batching = %+v", tuned.Batching)
	}
	plain, err := st.Lookup("plain", 0)
	if err != nil || plain.Batching.MaxBatchSize != 64 || plain.Batching.Executors < 1 {
		t.Fatalf("plain batching = %+v, %v; want the defaults", plain.Batching, err)
	}
	v := st.Model("broken").Version(1)
	if v.State() != modelstore.Failed || !strings.Contains(v.Reason(), modelstore.ErrPolicy.Error()) || !strings.Contains(v.Reason(), "max_batch_size -3") {
		t.Fatalf("broken = %s, %q; want FAILED naming max_batch_size", v.State(), v.Reason())
	}
}

func TestModelWithoutBatchAxisRunsAlone(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "fixed", fixedModel())
	st := openStore(t, dir)
	v, err := st.Lookup("fixed", 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.Batching.MaxBatchSize != 1 {
		t.Fatalf("fixed-shape model batches up to %d rows; want 1", v.Batching.MaxBatchSize)
	}
}
