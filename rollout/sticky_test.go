package rollout

import (
	"fmt"
	"math"
	"strconv"
	"testing"
)

// TestWeightedShare checks that the observed share of keyed and keyless
// requests on the candidate is within 2 percentage points of its weight.
func TestWeightedShare(t *testing.T) {
	const n = 20_000
	for _, w := range []int{100, 500, 2500, 5000, 9000} {
		rt := Split(1, "stable", 2, "candidate", w, nil)
		keyed, keyless := 0, 0
		for i := range n {
			if v, _ := rt.PickKey("fraud", []byte("user-"+strconv.Itoa(i))); v == "candidate" {
				keyed++
			}
			if v, _ := rt.PickKey("fraud", nil); v == "candidate" {
				keyless++
			}
		}
		want := float64(w) / FullWeight
		for what, got := range map[string]int{"keyed": keyed, "keyless": keyless} {
			if share := float64(got) / n; math.Abs(share-want) > 0.02 {
				t.Errorf("weight %d bp: %s share on the candidate %.4f; want %.4f within 0.02", w, what, share, want)
			}
		}
	}
}

// TestStickyKeys checks that a key always lands on the same arm, stays on
// the candidate as its weight grows, and that two routes built alike
// (two replicas) agree on every key.
func TestStickyKeys(t *testing.T) {
	steps := []int{500, 2500, 5000, 10000}
	onCandidate := map[string]bool{}
	for _, w := range steps {
		a := Split(3, "v3", 4, "v4", w, nil)
		b := Split(3, "v3", 4, "v4", w, nil) // another replica's table
		for i := range 10_000 {
			key := []byte(fmt.Sprintf("key-%d", i))
			x, _ := a.PickKey("fraud", key)
			y, _ := b.PickKey("fraud", key)
			again, _ := a.PickKey("fraud", key)
			if x != y || x != again {
				t.Fatalf("weight %d: key %s went to %s, %s and %s", w, key, x, y, again)
			}
			if onCandidate[string(key)] && x != "v4" {
				t.Fatalf("weight %d: key %s left the candidate as its weight grew", w, key)
			}
			if x == "v4" {
				onCandidate[string(key)] = true
			}
		}
	}
	if len(onCandidate) != 10_000 {
		t.Fatalf("at full weight %d of 10000 keys are on the candidate", len(onCandidate))
	}
	// The bucket depends on the model too: the same key splits
	// independently for another model.
	same := 0
	for i := range 1000 {
		key := []byte(strconv.Itoa(i))
		if Bucket("fraud", key) == Bucket("churn", key) {
			same++
		}
	}
	if same > 5 {
		t.Fatalf("%d of 1000 keys share a bucket across two models", same)
	}
}

func TestPickKeyEdges(t *testing.T) {
	var nilRoute *Route[string]
	if _, ok := nilRoute.PickKey("m", nil); ok {
		t.Fatal("a nil route served")
	}
	one := Single(1, "v1", nil)
	for _, key := range [][]byte{nil, []byte("k")} {
		if v, ok := one.PickKey("m", key); !ok || v != "v1" {
			t.Fatalf("single arm picked %q, %v", v, ok)
		}
	}
	for _, w := range []int{-5, 0} {
		rt := Split(1, "s", 2, "c", w, nil)
		for i := range 1000 {
			if v, _ := rt.PickKey("m", []byte(strconv.Itoa(i))); v != "s" {
				t.Fatalf("weight %d sent a request to the candidate", w)
			}
		}
	}
	full := Split(1, "s", 2, "c", 20000, nil)
	if v, _ := full.PickKey("m", nil); v != "c" {
		t.Fatalf("full weight picked %q", v)
	}
}

func TestBucketAllocatesNothing(t *testing.T) {
	key := []byte("user-42")
	rt := Split(1, "s", 2, "c", 2500, nil)
	if n := testing.AllocsPerRun(100, func() { rt.PickKey("fraud", key) }); n != 0 {
		t.Fatalf("PickKey allocates %v times", n)
	}
}
