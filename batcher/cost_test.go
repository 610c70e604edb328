package batcher

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// timedRunner doubles rows after sleeping delay, reports modelTime as its
// model's run time when it is not zero, and fails when fail is set.
type timedRunner struct {
	doubler
	modelTime time.Duration
	fail      error
}

func (r *timedRunner) Run(ctx context.Context, b *Batch[*req]) error {
	if err := r.doubler.Run(ctx, b); err != nil {
		return err
	}
	b.RunTime = r.modelTime
	return r.fail
}

// TestCostChargesModelRuns checks what one queue is charged: under
// synctest the fake clock moves only in the runner's sleep, so the
// charges are exact.
func TestCostChargesModelRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &timedRunner{doubler: doubler{delay: 10 * time.Millisecond}}
		q := newQueue(t, Config{MaxBatchSize: 8, Executors: 1}, r)
		for _, rows := range []int{2, 3, 1} {
			if err := q.Do(item(rows, 0)); err != nil {
				t.Fatal(err)
			}
		}
		want := Cost{ModelSeconds: 0.03, Requests: 3, Predictions: 6}
		if got := q.Cost(); got != want {
			t.Fatalf("Cost() after three runs of 10ms = %+v; want %+v", got, want)
		}
		// A Runner that tells its model's run apart is charged that only.
		r.modelTime = time.Millisecond
		if err := q.Do(item(4, 0)); err != nil {
			t.Fatal(err)
		}
		// A failed batch costs its run and makes no prediction.
		r.fail = errors.New("model says no")
		if err := q.Do(item(5, 0)); !errors.Is(err, r.fail) {
			t.Fatalf("Do = %v; want the runner's error", err)
		}
		want = Cost{ModelSeconds: 0.032, Requests: 5, Predictions: 10}
		if got := q.Cost(); math.Abs(got.ModelSeconds-want.ModelSeconds) > 1e-12 || got.Requests != want.Requests || got.Predictions != want.Predictions {
			t.Fatalf("Cost() = %+v; want %+v", got, want)
		}
		if got, want := q.Cost().SecondsPerPrediction(), 0.0032; math.Abs(got-want) > 1e-12 {
			t.Errorf("SecondsPerPrediction() = %v; want %v", got, want)
		}
	})
}

func TestCostDollars(t *testing.T) {
	f := func(c Cost, want float64, wantOK bool) {
		t.Helper()
		got, ok := c.DollarsPer1k()
		if ok != wantOK || math.Abs(got-want) > 1e-12 {
			t.Errorf("%+v.DollarsPer1k() = %v, %v; want %v, %v", c, got, ok, want, wantOK)
		}
	}
	// 3.6s over 1000 predictions at $1/core-hour: a thousandth of an hour.
	f(Cost{ModelSeconds: 1.6, ProcessSeconds: 2, Predictions: 1000, PerCoreHour: 1}, 0.001, true)
	f(Cost{ModelSeconds: 36, Predictions: 10, PerCoreHour: 0.5}, 0.5, true)
	f(Cost{ModelSeconds: 1, Predictions: 10}, 0, false) // no price
	f(Cost{ModelSeconds: 1, PerCoreHour: 1}, 0, false)  // no prediction yet
}

func TestSetPriceRefusesNonsense(t *testing.T) {
	q := newQueue(t, Config{}, &doubler{})
	for _, p := range []float64{-1, math.NaN(), math.Inf(1)} {
		q.SetPrice(0.25)
		q.SetPrice(p)
		if got := q.Cost().PerCoreHour; got != 0 {
			t.Errorf("SetPrice(%v): PerCoreHour = %v; want 0, no price", p, got)
		}
	}
}

// TestShareCPU checks how the process's CPU time of an interval is given
// out: the model time charged in it is subtracted, and the rest goes to
// the queues by their requests in it.
func TestShareCPU(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMetrics()
		newQ := func(version string, r Runner[*req]) *Queue[*req] {
			q, err := New(Config{MaxBatchSize: 1, Executors: 1}, r, m, "m", version)
			if err != nil {
				t.Fatal(err)
			}
			return q
		}
		a := newQ("1", &doubler{delay: time.Second}) // 1s of model time per request
		b := newQ("2", &doubler{})
		defer a.Close(context.Background())
		do := func(q *Queue[*req], n int) {
			for range n {
				if err := q.Do(item(1, 0)); err != nil {
					t.Fatal(err)
				}
			}
		}
		cpu := 100 * time.Second
		m.shareCPU(cpu) // the first sample is the baseline: nothing given
		do(a, 3)
		do(b, 1)
		cpu += 7 * time.Second // 3s of a's runs, and 4s more
		m.shareCPU(cpu)
		f := func(q *Queue[*req], wantModel, wantProcess float64) {
			t.Helper()
			c := q.Cost()
			if c.ModelSeconds != wantModel || math.Abs(c.ProcessSeconds-wantProcess) > 1e-9 {
				t.Errorf("Cost() = %+v; want model %vs, process %vs", c, wantModel, wantProcess)
			}
		}
		f(a, 3, 3)
		f(b, 0, 1)
		// An interval without requests gives its CPU time to no one, and
		// so does one whose model time exceeds the CPU time.
		cpu += 5 * time.Second
		m.shareCPU(cpu)
		do(a, 2)
		cpu += time.Second
		m.shareCPU(cpu)
		f(a, 5, 3)
		f(b, 0, 1)
		// A queue closed within an interval: its model time still counts.
		do(b, 1)
		do(a, 1)
		if err := a.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		cpu += 3 * time.Second // 1s of a's run, 2s more: all b's
		m.shareCPU(cpu)
		f(b, 0, 3)
		b.Close(context.Background())
	})
}

// TestShareCPUStops checks that ShareCPU reads the real process CPU time
// and returns once its context is done.
func TestShareCPUStops(t *testing.T) {
	if _, ok := processCPU(); !ok {
		t.Skip("no process CPU time on this platform")
	}
	m := newMetrics()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.ShareCPU(ctx, time.Millisecond)
	}()
	cancel()
	<-done
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.share.sampled || m.share.cpu <= 0 {
		t.Fatalf("after ShareCPU the sampler has %+v; want a baseline of the process's CPU time", m.share)
	}
}

// TestCostSeries checks the cost series on a registry: their values, the
// dollars only with a price, promlint's verdict, and that a closed
// queue's series are gone.
func TestCostSeries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		m, err := NewMetrics(reg)
		if err != nil {
			t.Fatal(err)
		}
		priced, err := New(Config{MaxBatchSize: 8, Executors: 1}, &doubler{delay: 36 * time.Millisecond}, m, "fraud", "2")
		if err != nil {
			t.Fatal(err)
		}
		free, err := New(Config{MaxBatchSize: 8, Executors: 1}, &doubler{delay: time.Millisecond}, m, "fraud", "3")
		if err != nil {
			t.Fatal(err)
		}
		priced.SetPrice(2)
		for range 2 {
			if err := errors.Join(priced.Do(item(5, 0)), free.Do(item(1, 0))); err != nil {
				t.Fatal(err)
			}
		}
		// 72ms over 10 predictions at $2 an hour: 7.2ms a prediction,
		// $0.004 per 1,000.
		want := `
# HELP switchyard_cost_per_1k_predictions_dollars What 1,000 of the version's predictions cost at the price per core-hour (--cost-per-core-hour or policy.yaml cost.per_core_hour); absent without a price.
# TYPE switchyard_cost_per_1k_predictions_dollars gauge
switchyard_cost_per_1k_predictions_dollars{model="fraud",version="2"} 0.004
# HELP switchyard_cost_predictions_total Predictions the version made: rows of the batches that succeeded.
# TYPE switchyard_cost_predictions_total counter
switchyard_cost_predictions_total{model="fraud",version="2"} 10
switchyard_cost_predictions_total{model="fraud",version="3"} 2
`
		names := []string{"switchyard_cost_per_1k_predictions_dollars", "switchyard_cost_predictions_total"}
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
			t.Error(err)
		}
		for v, want := range map[string]float64{"2": 0.072, "3": 0.002} {
			if got := gathered(t, reg, "switchyard_cost_compute_seconds_total", v); math.Abs(got-want) > 1e-12 {
				t.Errorf("compute seconds of version %s = %v; want %v", v, got, want)
			}
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		if problems, err := promlint.NewWithMetricFamilies(mfs).Lint(); err != nil || len(problems) > 0 {
			t.Errorf("promlint = %v, %v; want no problem", problems, err)
		}
		if err := priced.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := gathered(t, reg, "switchyard_cost_predictions_total", "2"); got != -1 {
			t.Errorf("version 2's predictions after its queue closed = %v; want no series", got)
		}
		if got := gathered(t, reg, "switchyard_cost_predictions_total", "3"); got != 2 {
			t.Errorf("version 3's predictions = %v; want 2, still live", got)
		}
		free.Close(context.Background())
	})
}

// gathered returns the value of the series name{version=version} on reg,
// or -1 when there is none.
func gathered(t *testing.T, reg prometheus.Gatherer, name, version string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "version" && l.GetValue() == version {
					if c := s.GetCounter(); c != nil {
						return c.GetValue()
					}
					return s.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}
