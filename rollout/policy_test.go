package rollout_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/rollout"
)

func TestDefaultPolicy(t *testing.T) {
	p := rollout.DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatalf("DefaultPolicy().Validate() = %v; want nil", err)
	}
	if !slices.Equal(p.Steps, []int{500, 2500, 5000, 10000}) || p.OnPublish != rollout.Latest || p.Bake != time.Minute ||
		p.MaxBake != 10*time.Minute || p.MinRequests != 200 || p.FailureLimit != 2 || p.KeepPrevious != 1 ||
		p.MaxErrorRateDelta != 0.01 || p.CriticalErrorRate != 0.2 || p.MaxLatencyIncrease != 0.2 ||
		p.MinLatencyDelta != time.Millisecond || p.MaxScorePSI != 0.2 || p.MinScoreShift != 0.05 || p.MaxAccuracyDrop != 0.02 || p.Watch != 5*time.Minute ||
		p.Shadow != (rollout.ShadowPolicy{MinRequests: 1000, MinAgreement: 0.95, Then: rollout.Manual}) {
		t.Fatalf("DefaultPolicy() = %+v; want the documented defaults", p)
	}
	p.Steps[0] = 1
	if q := rollout.DefaultPolicy(); q.Steps[0] != 500 {
		t.Fatal("DefaultPolicy shares its Steps between calls")
	}
}

func TestPolicyValidateFailure(t *testing.T) {
	f := func(field, want string, change func(p *rollout.Policy)) {
		t.Helper()
		p := rollout.DefaultPolicy()
		change(&p)
		err := p.Validate()
		var pe *rollout.PolicyError
		if !errors.Is(err, rollout.ErrPolicy) || !errors.As(err, &pe) || pe.Field != field || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; want a PolicyError on %s mentioning %q", err, field, want)
		}
	}
	f("on_publish", `"blue"`, func(p *rollout.Policy) { p.OnPublish = "blue" })
	f("on_publish", `""`, func(p *rollout.Policy) { p.OnPublish = "" })
	f("steps", "none given", func(p *rollout.Policy) { p.Steps = nil })
	f("steps", "step 0 is 0 basis points", func(p *rollout.Policy) { p.Steps = []int{0, 10000} })
	f("steps", "step 1 is 10001 basis points", func(p *rollout.Policy) { p.Steps = []int{500, 10001} })
	f("steps", "step 1 (500) is not above step 0 (500)", func(p *rollout.Policy) { p.Steps = []int{500, 500, 10000} })
	f("steps", "the last step is 5000", func(p *rollout.Policy) { p.Steps = []int{500, 5000} })
	f("bake", "0s", func(p *rollout.Policy) { p.Bake = 0 })
	f("bake", "200h", func(p *rollout.Policy) { p.Bake = 200 * time.Hour })
	f("min_requests", "19", func(p *rollout.Policy) { p.MinRequests = 19 })
	f("max_bake", "-1s", func(p *rollout.Policy) { p.MaxBake = -time.Second })
	f("failure_limit", "0", func(p *rollout.Policy) { p.FailureLimit = 0 })
	f("failure_limit", "101", func(p *rollout.Policy) { p.FailureLimit = 101 })
	f("critical_error_rate", "0", func(p *rollout.Policy) { p.CriticalErrorRate = 0 })
	f("critical_error_rate", "NaN", func(p *rollout.Policy) { p.CriticalErrorRate = math.NaN() })
	f("min_latency_delta", "-1ms", func(p *rollout.Policy) { p.MinLatencyDelta = -time.Millisecond })
	f("min_score_shift", "1.5", func(p *rollout.Policy) { p.MinScoreShift = 1.5 })
	f("keep_previous", "-1", func(p *rollout.Policy) { p.KeepPrevious = -1 })
	f("max_error_rate_delta", "1.5", func(p *rollout.Policy) { p.MaxErrorRateDelta = 1.5 })
	f("max_error_rate_delta", "NaN", func(p *rollout.Policy) { p.MaxErrorRateDelta = math.NaN() })
	f("max_latency_increase", "-0.1", func(p *rollout.Policy) { p.MaxLatencyIncrease = -0.1 })
	f("max_latency_increase", "+Inf", func(p *rollout.Policy) { p.MaxLatencyIncrease = math.Inf(1) })
	f("max_score_psi", "0", func(p *rollout.Policy) { p.MaxScorePSI = 0 })
	f("max_score_psi", "NaN", func(p *rollout.Policy) { p.MaxScorePSI = math.NaN() })
	f("max_accuracy_drop", "-0.1", func(p *rollout.Policy) { p.MaxAccuracyDrop = -0.1 })
	f("watch", "-1s", func(p *rollout.Policy) { p.Watch = -time.Second })
	f("shadow.min_requests", "0", func(p *rollout.Policy) { p.Shadow.MinRequests = 0 })
	f("shadow.min_agreement", "1.1", func(p *rollout.Policy) { p.Shadow.MinAgreement = 1.1 })
	f("shadow.then", `"shadow"`, func(p *rollout.Policy) { p.Shadow.Then = rollout.Shadow })
}

func TestPolicyValidateSuccess(t *testing.T) {
	f := func(change func(p *rollout.Policy)) {
		t.Helper()
		p := rollout.DefaultPolicy()
		change(&p)
		if err := p.Validate(); err != nil {
			t.Errorf("Validate() = %v; want nil for %+v", err, p)
		}
	}
	f(func(p *rollout.Policy) { p.Steps = []int{10000} })
	f(func(p *rollout.Policy) { p.Steps = []int{1, 2, 10000} })
	f(func(p *rollout.Policy) { p.OnPublish = rollout.Shadow; p.Shadow.Then = rollout.BlueGreen })
	f(func(p *rollout.Policy) { p.MaxErrorRateDelta, p.MaxAccuracyDrop, p.KeepPrevious = 0, 0, 0 })
	f(func(p *rollout.Policy) { p.MaxLatencyIncrease, p.MinLatencyDelta, p.Shadow.MinAgreement = 0, 0, 1 })
	f(func(p *rollout.Policy) { p.MaxBake, p.FailureLimit, p.CriticalErrorRate = 0, 1, 1 })
	f(func(p *rollout.Policy) { p.Bake, p.Watch = 7*24*time.Hour, time.Nanosecond })
}

func TestParseWeightSuccess(t *testing.T) {
	f := func(in string, want int) {
		t.Helper()
		if got, err := rollout.ParseWeight(in); got != want || err != nil {
			t.Errorf("ParseWeight(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	f("2500", 2500)
	f("0", 0)
	f("5%", 500)
	f("100%", 10000)
	f("0.5%", 50)
	f("12.25%", 1225)
	f("0.01%", 1)
	f("7.0%", 700)
	f("150%", 15000) // syntax only; Validate checks the range
}

func TestParseWeightFailure(t *testing.T) {
	f := func(in string) {
		t.Helper()
		if got, err := rollout.ParseWeight(in); !errors.Is(err, rollout.ErrPolicy) || !strings.Contains(err.Error(), in) {
			t.Errorf("ParseWeight(%q) = %d, %v; want ErrPolicy naming the input", in, got, err)
		}
	}
	f("")
	f("%")
	f("5 %")
	f("-5%")
	f("+5%")
	f("+500")
	f("-1")
	f("0.005%")
	f(".5%")
	f("5.%")
	f("1e3")
	f("5%%")
	f("25 percent")
	f("99999999%")
}
