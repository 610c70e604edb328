package bench

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// How Soak judges the server's resident set size and goroutines flat
// after warm-up: the largest sample of the run's last half may exceed
// the reference, the median of the first soakReferenceSamples samples
// after warm-up, by soakFlatRatio times it plus a small absolute slack.
const (
	soakReferenceSamples = 3
	soakFlatRatio        = 1.10
	soakRSSSlack         = 16 << 20
	soakGoroutineSlack   = 10
)

// SoakReport is the outcome of Soak. It is a plain value; its JSON
// encoding is the machine-readable report.
type SoakReport struct {
	Machine
	// Kinds counts the inference traffic by kind of request.
	Kinds []SoakKind `json:"kinds"`
	// The configuration after defaults: the inference traffic's
	// Connections and Rate, its Duration and Warmup (the first part of
	// it), the Interval between samples, MLflowRate and the canary's Bake.
	Connections int           `json:"connections"`
	Rate        float64       `json:"rate"`
	Duration    time.Duration `json:"duration_ns"`
	MLflowRate  float64       `json:"mlflow_rate"`
	Warmup      time.Duration `json:"warmup_ns"`
	Interval    time.Duration `json:"interval_ns"`
	Bake        time.Duration `json:"bake_ns"`
	// Requests, Expected and Unexpected sum Kinds; ExpectedErrors counts
	// the bad requests answered with the status they should get, and
	// UnexpectedBy the unexpected answers by what they were.
	Requests       int64            `json:"requests"`
	Expected       int64            `json:"expected"`
	ExpectedErrors int64            `json:"expected_errors"`
	Unexpected     int64            `json:"unexpected"`
	UnexpectedBy   map[string]int64 `json:"unexpected_by,omitempty"`
	// Failures describes the first unexpected answers.
	Failures []SoakFailure `json:"failures,omitempty"`
	// MLflow is what the MLflow load did; its errors are unexpected too.
	MLflow MLflowLoad `json:"mlflow"`
	// Lifecycle is what the churn did.
	Lifecycle SoakLifecycle `json:"lifecycle"`
	// Samples are the samples, one every Interval.
	Samples []SoakSample `json:"samples"`
	// MetricsErrors counts the samples whose GET /metrics failed, which
	// have no goroutines; MetricsError describes the first.
	MetricsErrors int64  `json:"metrics_errors,omitempty"`
	MetricsError  string `json:"metrics_error,omitempty"`
	// RSSReference and GoroutinesReference are the medians of the first
	// soakReferenceSamples samples after warm-up; RSSMax and
	// GoroutinesMax the largest samples of the run's last half; RSSBound
	// and GoroutinesBound what those may be to count as flat.
	RSSReference        int64 `json:"rss_reference_bytes"`
	RSSMax              int64 `json:"rss_max_bytes"`
	RSSBound            int64 `json:"rss_bound_bytes"`
	GoroutinesReference int   `json:"goroutines_reference"`
	GoroutinesMax       int   `json:"goroutines_max"`
	GoroutinesBound     int   `json:"goroutines_bound"`
	// Goals are the targets, judged: no unexpected answer, RSS and
	// goroutines flat after warm-up, and at least one version promoted
	// through a canary.
	Goals []Goal `json:"goals"`
}

// SoakKind counts one kind of request of Soak.
type SoakKind struct {
	// Name names the kind; Expect is the status it should get.
	Name   string `json:"name"`
	Expect int    `json:"expect"`
	// Requests counts the requests sent, Expected those answered with
	// Expect and Unexpected the others, which UnexpectedBy breaks down:
	// "status 503", "timeout" or "transport".
	Requests     int64            `json:"requests"`
	Expected     int64            `json:"expected"`
	Unexpected   int64            `json:"unexpected"`
	UnexpectedBy map[string]int64 `json:"unexpected_by,omitempty"`
}

// SoakFailure is one unexpected answer.
type SoakFailure struct {
	// At is the time since the traffic began, in seconds.
	At float64 `json:"at_s"`
	// Kind names the kind of request; What says what the answer was.
	Kind string `json:"kind"`
	What string `json:"what"`
	// Version is the answer's X-Model-Version; Detail the start of its
	// body, or the transport error.
	Version string `json:"version,omitempty"`
	Detail  string `json:"detail"`
}

// SoakSample is what Soak saw over one Interval.
type SoakSample struct {
	// At is the time since the traffic began, in seconds; Warm reports
	// it past the warm-up.
	At   float64 `json:"at_s"`
	Warm bool    `json:"warm"`
	// Requests counts the requests answered in the interval,
	// RequestsPerSec their rate, Unexpected the unexpected answers among
	// them, P50 and P99 the latencies of the 200s; RSS is the server's
	// resident set size, in bytes, and Goroutines its go_goroutines at
	// the end of the interval (0 when GET /metrics failed).
	Requests       int64         `json:"requests"`
	P50            time.Duration `json:"p50_ns"`
	RequestsPerSec float64       `json:"requests_per_sec"`
	P99            time.Duration `json:"p99_ns"`
	Unexpected     int64         `json:"unexpected"`
	RSS            int64         `json:"rss_bytes"`
	Goroutines     int           `json:"goroutines"`
}

// add merges a worker's window into the report's counts by kind, which
// must have one entry per kind.
func (r *SoakReport) add(win soakWindow) {
	for i := range win.kinds {
		c, k := &win.kinds[i], &r.Kinds[i]
		k.Requests += c.requests
		k.Expected += c.expected
		for what, n := range c.unexpected {
			if k.UnexpectedBy == nil {
				k.UnexpectedBy = map[string]int64{}
			}
			k.UnexpectedBy[what] += n
			k.Unexpected += n
		}
	}
}

// judge fills in the sums, the references and the goals.
func (r *SoakReport) judge() {
	for _, k := range r.Kinds {
		r.Requests += k.Requests
		r.Unexpected += k.Unexpected
		if k.Expect == 200 {
			r.Expected += k.Expected
		} else {
			r.ExpectedErrors += k.Expected
		}
		for what, n := range k.UnexpectedBy {
			if r.UnexpectedBy == nil {
				r.UnexpectedBy = map[string]int64{}
			}
			r.UnexpectedBy[what] += n
		}
	}
	var warm []SoakSample
	for _, s := range r.Samples {
		if s.Warm {
			warm = append(warm, s)
		}
	}
	flat := len(warm) >= 2
	if flat {
		ref := warm[:min(len(warm), soakReferenceSamples)]
		rss := func(s SoakSample) int64 { return s.RSS }
		goroutines := func(s SoakSample) int { return s.Goroutines }
		r.RSSReference, r.GoroutinesReference = medianOf(ref, rss), medianOf(ref, goroutines)
		half := r.Samples[len(r.Samples)/2:]
		r.RSSMax, r.GoroutinesMax = maxOf(half, rss), maxOf(half, goroutines)
		r.RSSBound = int64(float64(r.RSSReference)*soakFlatRatio) + soakRSSSlack
		r.GoroutinesBound = int(float64(r.GoroutinesReference)*soakFlatRatio) + soakGoroutineSlack
	}
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	r.Goals = []Goal{
		newGoal("unexpected answers (inference and MLflow)", float64(r.Unexpected+r.MLflow.Errors), "<=", 0, "", r.Requests > 0),
		newGoal("server RSS, largest in the last half", mib(r.RSSMax), "<=", mib(r.RSSBound), " MiB", flat),
		newGoal("server goroutines, most in the last half", float64(r.GoroutinesMax), "<=", float64(r.GoroutinesBound), "",
			flat && !slices.ContainsFunc(warm, func(s SoakSample) bool { return s.Goroutines == 0 })),
		newGoal("versions promoted through a canary", float64(r.Lifecycle.Promoted), ">=", 1, "", true),
	}
}

// medianOf returns the lower median of of(s) over s, which must not be
// empty.
func medianOf[T int | int64](s []SoakSample, of func(SoakSample) T) T {
	v := make([]T, len(s))
	for i := range s {
		v[i] = of(s[i])
	}
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

// maxOf returns the largest of(s) over s, which must not be empty.
func maxOf[T int | int64](s []SoakSample, of func(SoakSample) T) T {
	m := of(s[0])
	for _, x := range s[1:] {
		m = max(m, of(x))
	}
	return m
}

// WriteText writes the report as fixed-width tables for people to read:
// the traffic by kind, the lifecycle, the samples and the goals.
func (r *SoakReport) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "switchyard bench --soak %v: %s\n", r.Duration, r.Machine)
	fmt.Fprintf(bw, "one switchyard serve; model %s (MLP 30-64-2) churned, model %s (the same MLP with a feature schema);\n"+
		"%.0f req/s over %d connections, each cycling through %d requests: %s;\n"+
		"MLflow: %d runs created, then log-metric at %g/s; samples every %v, the first %v a warm-up\n\n",
		SmallModel, soakRecordsModel, r.Rate, r.Connections, soakMixLen, r.mixText(), MLflowRuns, r.MLflowRate, r.Interval, r.Warmup)

	fmt.Fprintf(bw, "%-18s %6s %10s %10s %10s  %s\n", "request", "expect", "sent", "expected", "unexpected", "by kind")
	for _, k := range r.Kinds {
		fmt.Fprintf(bw, "%-18s %6d %10d %10d %10d  %s\n", k.Name, k.Expect, k.Requests, k.Expected, k.Unexpected, formatCounts(k.UnexpectedBy))
	}
	fmt.Fprintf(bw, "%-18s %6s %10d %10d %10d  %s\n", "all", "", r.Requests, r.Expected+r.ExpectedErrors, r.Unexpected, formatCounts(r.UnexpectedBy))
	m := &r.MLflow
	fmt.Fprintf(bw, "%-18s %6d %10d %10d %10d  %s\n", "MLflow writes", 200, m.Requests, m.Requests-m.Errors, m.Errors, m.FirstError)
	for _, f := range r.Failures {
		fmt.Fprintf(bw, "unexpected at %6.1fs: %s: %s (version %q): %s\n", f.At, f.Kind, f.What, f.Version, strings.TrimSpace(f.Detail))
	}

	l := &r.Lifecycle
	fmt.Fprintf(bw, "\nlifecycle of %s (gate against the stable version; canary 2500, 10000 bp, bake %v; every %dth version reseeded):\n"+
		"%d published, %d passed their gate, %d failed it; %d canary steps; %d promoted, %d rolled back by the controller;\n"+
		"%d swaps back through the operations API; %d stuck rollouts rolled back by the soak\n\n",
		SmallModel, r.Bake, soakFailEvery, l.Published, l.GatesPassed, l.GatesFailed, l.CanarySteps, l.Promoted, l.RolledBack, l.Swaps, l.Stuck)

	fmt.Fprintf(bw, "%7s %9s %9s %9s %10s %11s %10s\n", "time", "req/s", "p50", "p99", "unexpected", "RSS", "goroutines")
	for _, s := range r.Samples {
		warm := " "
		if !s.Warm {
			warm = "*"
		}
		fmt.Fprintf(bw, "%6.0fs%s%9.0f %9s %9s %10d %11s %10d\n", s.At, warm, s.RequestsPerSec, formatDuration(s.P50),
			formatDuration(s.P99), s.Unexpected, formatBytes(s.RSS), s.Goroutines)
	}
	fmt.Fprintf(bw, "(*: warm-up; p50, p99: the interval's 200s, from each request's due time)\n"+
		"(flat: the largest sample of the run's last half at most %.2f × the median of the first %d samples after warm-up,\n"+
		"plus %s for RSS and %d goroutines: reference %s and %d goroutines)\n\n",
		soakFlatRatio, soakReferenceSamples, formatBytes(soakRSSSlack), soakGoroutineSlack, formatBytes(r.RSSReference), r.GoroutinesReference)
	if r.MetricsErrors > 0 {
		fmt.Fprintf(bw, "WARNING: %d samples have no goroutines: GET /metrics failed (%s)\n\n", r.MetricsErrors, r.MetricsError)
	}
	writeGoals(bw, "", 0, r.Goals)
	return bw.Flush()
}

// mixText describes the kinds and their shares, such as "12 V2 infer
// (200), ...".
func (r *SoakReport) mixText() string {
	var parts []string
	for _, k := range soakKinds(nil) {
		parts = append(parts, fmt.Sprintf("%d %s (%d)", k.share, k.name, k.status))
	}
	return strings.Join(parts, ", ")
}

// formatCounts writes counts by name, such as "status 503: 2, timeout: 1".
func formatCounts(m map[string]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
