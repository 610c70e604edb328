package bench

import (
	"bytes"
	"slices"
	"testing"
	"time"
)

// TestSoakMix checks that each connection's cycle of kinds holds every
// kind as often as its share.
func TestSoakMix(t *testing.T) {
	kinds := soakKinds(nil)
	mix := soakMix(kinds)
	if len(mix) != soakMixLen {
		t.Fatalf("soakMix has %d entries; want %d", len(mix), soakMixLen)
	}
	total := 0
	for i, k := range kinds {
		total += k.share
		if got := countOf(mix, i); got != k.share {
			t.Errorf("soakMix holds %s %d times; want %d", k.name, got, k.share)
		}
	}
	if total != soakMixLen {
		t.Errorf("the shares add up to %d; want %d", total, soakMixLen)
	}
}

// TestSoakJudge checks the flatness goals on made-up samples: the
// reference is the median of the first samples after warm-up, the value
// the largest of the last half.
func TestSoakJudge(t *testing.T) {
	f := func(rss []int64, goroutines []int, wantRSS, wantGoroutines bool) {
		t.Helper()
		r := &SoakReport{Kinds: []SoakKind{{Name: "V2 infer", Expect: 200, Requests: 10, Expected: 10}},
			Lifecycle: SoakLifecycle{Promoted: 1}}
		for i := range rss {
			r.Samples = append(r.Samples, SoakSample{Warm: i > 0, RSS: rss[i] << 20, Goroutines: goroutines[i]})
		}
		r.judge()
		if !r.Goals[0].Pass || !r.Goals[3].Pass {
			t.Errorf("goals %+v; want no unexpected answer and a promote judged PASS", r.Goals)
		}
		if r.Goals[1].Pass != wantRSS || r.Goals[2].Pass != wantGoroutines {
			t.Errorf("judge(RSS %v MiB, goroutines %v): RSS %v, goroutines %v; want %v, %v",
				rss, goroutines, r.Goals[1].Pass, r.Goals[2].Pass, wantRSS, wantGoroutines)
		}
	}
	f([]int64{10, 100, 101, 99, 100, 105, 110, 120}, []int{5, 50, 52, 51, 50, 60, 65, 60}, true, true)
	f([]int64{10, 100, 101, 99, 100, 105, 110, 127}, []int{5, 50, 52, 51, 50, 60, 65, 67}, false, false)
	f([]int64{10, 100, 101, 99, 100, 105, 110, 120}, []int{5, 50, 0, 51, 50, 60, 65, 60}, true, false) // a failed scrape
	f([]int64{10, 100}, []int{5, 50}, false, false)                                                    // too few samples
}

// TestSoakSmoke runs the sustained-load scenario for a few seconds
// against a real `switchyard serve`, built from this module. It checks
// that every kind of request was sent and answered as expected at least
// once, that the lifecycle churned and that every sample was taken,
// never how fast. Unexpected answers are logged, not failed: finding
// them is what the soak is for, and its report names them.
func TestSoakSmoke(t *testing.T) {
	var progress bytes.Buffer
	rep, err := Soak(t.Context(), SoakConfig{Binary: buildSwitchyard(t), Dir: t.TempDir(), Progress: &progress,
		Duration: 8 * time.Second, Warmup: 2 * time.Second, Interval: time.Second, Connections: 4, Rate: 400,
		MLflowRate: 20, CycleGap: 100 * time.Millisecond, Bake: 500 * time.Millisecond})
	if err != nil {
		t.Fatalf("Soak = %v\n%s", err, progress.String())
	}
	for _, k := range rep.Kinds {
		if k.Requests == 0 || k.Expected == 0 {
			t.Errorf("%s: %d sent, %d answered %d; want some of each", k.Name, k.Requests, k.Expected, k.Expect)
		}
	}
	if rep.Unexpected > 0 || rep.MLflow.Errors > 0 {
		t.Logf("unexpected answers: %v, MLflow errors %d (%s); first: %+v", rep.UnexpectedBy, rep.MLflow.Errors,
			rep.MLflow.FirstError, rep.Failures)
	}
	if rep.MLflow.Runs == 0 || rep.MLflow.Requests == 0 {
		t.Errorf("MLflow load: %d runs, %d requests; want some", rep.MLflow.Runs, rep.MLflow.Requests)
	}
	if l := rep.Lifecycle; l.Published == 0 || l.GatesPassed+l.GatesFailed == 0 || len(l.Events) == 0 {
		t.Errorf("lifecycle %+v; want a version published and judged", l)
	}
	if len(rep.Samples) < 5 || slices.ContainsFunc(rep.Samples, func(s SoakSample) bool { return s.RSS <= 0 || s.Requests == 0 }) {
		t.Errorf("samples %+v; want at least 5, each with requests and RSS", rep.Samples)
	}
	if len(rep.Goals) != 4 || rep.Goals[0].Missing || rep.Goals[1].Missing {
		t.Fatalf("goals %+v; want four, the unexpected answers and RSS measured", rep.Goals)
	}
	checkReport(t, rep, "--soak 8s", "malformed JSON", "invalid record", "MLflow writes", "lifecycle of small", "goroutines",
		"flat:", "unexpected answers", verdict(rep.Goals[0]))
}
