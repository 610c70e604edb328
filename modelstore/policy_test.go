package modelstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
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
  min_auc: 0.8
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
	f("rollout:\n  keep_previous: -1\n", "keep_previous -1")
	f("rollout:\n  keep_previous: 100\n", "keep_previous 100")
	f("rollout:\n  keep_prev: 1\n", "keep_prev")
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("batching:\n  max_batch_size: 32\n  max_queue_delay: 1ms\n  preferred_batch_sizes: [8]\n"))
	f.Add([]byte("batching:\n  timeout: 2s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := modelstore.ParsePolicy(data)
		if err != nil {
			return
		}
		if b := p.Batching; b.MaxBatchSize != nil && *b.MaxBatchSize < 1 {
			t.Fatalf("accepted max_batch_size %d", *b.MaxBatchSize)
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
