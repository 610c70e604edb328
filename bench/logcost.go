package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// Target and fixtures of LogCost.
const (
	// MinLogRatio is the target for the small model's requests per second
	// with the prediction log at sample 1.0 and drift sampling at 1.0 over
	// those with both off.
	MinLogRatio = 0.95
	// feedbackPredictions is how many predictions LogCost makes, after
	// each phase with the log on, to label through POST /v1/feedback.
	feedbackPredictions = 20000
	// feedbackBatch is the labels of one feedback request.
	feedbackBatch = 1000
)

// LogConfig configures LogCost. The zero value runs the scenario with
// the defaults it names.
type LogConfig struct {
	// RoundsConfig sets the rounds: a round is a phase with the small
	// model served with the prediction log and the drift monitor off (a
	// fresh server each phase), followed by one with both on, each
	// sampling every prediction.
	RoundsConfig
}

// LogPhase is one phase of LogCost.
type LogPhase struct {
	// RoundPhase holds the round and what the load measured.
	RoundPhase
	// Log reports that the prediction log and the drift monitor ran,
	// sampling every prediction; otherwise the server ran with
	// --prediction-log=false --drift=false.
	Log bool `json:"log"`
	// LabelsPerSec is the feedback ingest rate measured after the load of
	// a phase with the log on: feedbackPredictions labels, in requests of
	// feedbackBatch, over one connection.
	LabelsPerSec float64 `json:"labels_per_sec,omitempty"`
}

// progress implements roundsPhase.
func (p LogPhase) progress() (label, more string) {
	if !p.Log {
		return fmt.Sprintf("%-14s", "log, drift off"), ""
	}
	return fmt.Sprintf("%-14s", "log, drift 1.0"), fmt.Sprintf("  feedback %.0f labels/s", p.LabelsPerSec)
}

// LogReport is the outcome of LogCost. It is a plain value; its JSON
// encoding is the machine-readable report. Its RoundRatios are of the
// rounds' requests per second with the log and drift on over those with
// both off; its goal is Ratio at least MinLogRatio, missing without a
// ratio.
type LogReport struct {
	RoundsReport
	// Phases are the phases in the order run: off, on, off, on and so on.
	Phases []LogPhase `json:"phases"`
	// LabelsPerSec is the median feedback ingest rate of the phases with
	// the log on.
	LabelsPerSec float64 `json:"labels_per_sec"`
}

// LogCost measures what the prediction log, with the drift monitor,
// costs the inference hot path, and how fast feedback is taken in. It
// serves DriftCost's registry (the small model with a profile and a
// policy sampling every prediction for drift; the log samples every
// prediction by default). Rounds times, it starts `switchyard serve
// --prediction-log=false --drift=false` on it and drives one-row JSON
// requests over Connections connections for Duration, then does the same
// with both on, checks that the log holds the predictions, and labels
// feedbackPredictions fresh predictions through POST /v1/feedback,
// timing the labels. Every phase gets a fresh server. engine.Init must
// have been called.
//
// Servers listen on 127.0.0.1 only and are stopped before LogCost
// returns, whatever happens. An error means the scenario could not be
// run; failed requests and a missed goal are reported, not errors.
func LogCost(ctx context.Context, cfg LogConfig) (*LogReport, error) {
	if err := cfg.setDefaults("log"); err != nil {
		return nil, err
	}
	rep := &LogReport{RoundsReport: cfg.report()}
	run := &logRun{cfg: &cfg, drift: driftRun{cfg: &DriftConfig{RoundsConfig: cfg.RoundsConfig}}}
	var err error
	if rep.Phases, err = runRounds(ctx, &cfg.RoundsConfig, "log", run); err != nil {
		return nil, err
	}
	judgeRounds(&rep.RoundsReport, rep.Phases)
	var rates []float64
	for _, p := range rep.Phases {
		if p.Log {
			rates = append(rates, p.LabelsPerSec)
		}
	}
	rep.LabelsPerSec = lowerMedian(rates)
	rep.Goals = []Goal{newGoal("small req/s with the prediction log and drift at 1.0 ÷ both off", rep.Ratio, ">=", MinLogRatio, "", rep.Ratio > 0)}
	return rep, nil
}

// logRun is a run of LogCost: DriftCost's registry.
type logRun struct {
	cfg   *LogConfig
	drift driftRun
}

// setup implements roundsScenario.
func (r *logRun) setup(ctx context.Context, st *stage) error { return r.drift.setup(ctx, st) }

// phase starts a server with the log and drift off or, as the variant,
// on, measures the load against it, then, with the log on, the feedback
// ingest; it implements roundsScenario.
func (r *logRun) phase(ctx context.Context, st *stage, round int, on bool) (LogPhase, error) {
	p := LogPhase{RoundPhase: RoundPhase{Round: round}, Log: on}
	name, extra := "switchyard (log and drift off)", []string{"--prediction-log=false", "--drift=false"}
	if on {
		name, extra = "switchyard (log and drift, 1.0)", nil
	}
	err := st.withServer(ctx, name, r.drift.registry, extra, func(ch *child) error {
		adm := newAdminClient(ch.addr, SmallModel)
		defer adm.close()
		if err := adm.await(ctx, DefaultCycleTimeout, "version 1 serving", func(m *adminModel) bool { return m.ServingVersion == 1 }); err != nil {
			return err
		}
		var err error
		if p.Result, err = Run(ctx, r.cfg.load(ch.addr, SmallModel, st.small.body)); err != nil {
			return err
		}
		if on {
			p.LabelsPerSec, err = feedbackRate(ctx, ch.addr, st.small.body)
		}
		return err
	})
	return p, err
}

// feedbackRate makes feedbackPredictions one-row predictions of the small
// model at addr, waits for the log to hold the last, then labels them all
// through POST /v1/feedback, feedbackBatch at a time, and returns the
// labels taken per second. Every label must be accepted.
func feedbackRate(ctx context.Context, addr string, body []byte) (float64, error) {
	c := &fasthttp.HostClient{Addr: addr, Name: "switchyard-bench-feedback", MaxConns: 1, ReadTimeout: DefaultTimeout, WriteTimeout: DefaultTimeout}
	defer c.CloseIdleConnections()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	post := func(url string, b []byte) error {
		req.Reset()
		req.SetRequestURI(url)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/json")
		req.SetBody(b)
		return c.Do(req, resp)
	}
	ids := make([]string, 0, feedbackPredictions)
	var answer struct {
		Parameters struct {
			PredictionID string `json:"prediction_id"`
		} `json:"parameters"`
	}
	for range feedbackPredictions {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := post("http://"+addr+"/v2/models/"+SmallModel+"/infer", body); err != nil || resp.StatusCode() != fasthttp.StatusOK {
			return 0, fmt.Errorf("bench: feedback: predict: %v, status %d", err, resp.StatusCode())
		}
		if err := json.Unmarshal(resp.Body(), &answer); err != nil || answer.Parameters.PredictionID == "" {
			return 0, fmt.Errorf("bench: feedback: no prediction id in %.200s", resp.Body())
		}
		ids = append(ids, answer.Parameters.PredictionID)
	}
	batch := func(part []string) []byte {
		var b strings.Builder
		b.WriteByte('[')
		for i, id := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"prediction_id":%q,"label":%d}`, id, i%2)
		}
		b.WriteByte(']')
		return []byte(b.String())
	}
	// The log writes every 100 ms: wait for the last prediction.
	last := batch(ids[len(ids)-1:])
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := post("http://"+addr+"/v1/feedback", last); err != nil {
			return 0, fmt.Errorf("bench: feedback: %w", err)
		}
		if resp.StatusCode() == fasthttp.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("bench: feedback: the log did not take the last prediction within 10s: %.300s", resp.Body())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ids = ids[:len(ids)-1]
	start := time.Now()
	for i := 0; i < len(ids); i += feedbackBatch {
		if err := post("http://"+addr+"/v1/feedback", batch(ids[i:min(i+feedbackBatch, len(ids))])); err != nil {
			return 0, fmt.Errorf("bench: feedback: %w", err)
		}
		if resp.StatusCode() != fasthttp.StatusOK {
			return 0, fmt.Errorf("bench: feedback: status %d: %.300s", resp.StatusCode(), resp.Body())
		}
	}
	return float64(len(ids)) / time.Since(start).Seconds(), nil
}

// WriteText writes the report as fixed-width tables for people to read:
// the phases, the ratio of each round, the feedback rate and the goal.
func (r *LogReport) WriteText(w io.Writer) error {
	return writeRounds(w, &r.RoundsReport, r.Phases, &roundsText{
		flag: "--log-cost",
		intro: fmt.Sprintf("model %s (MLP 30-64-2), one-row JSON requests over %d connections, %v after %v warm-up per phase; %d rounds,\n"+
			"each a fresh server with the prediction log and the drift monitor off, then one with both on, sampling every prediction;\n"+
			"after each phase with the log on, %d fresh predictions labelled through POST /v1/feedback, %d a request\n",
			SmallModel, r.Connections, r.Duration, r.Warmup, r.Rounds, feedbackPredictions, feedbackBatch),
		column: "log and drift", width: 16, labels: [2]string{"both off", "both on, 1.0"}, more: "÷ off",
		notes: fmt.Sprintf("(÷ off: the round's req/s with the log and drift on over its req/s with both off)\n"+
			"feedback ingest, median of the rounds: %.0f labels/s\n", r.LabelsPerSec),
	})
}

// lowerMedian returns the lower median of xs, 0 without any.
func lowerMedian(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
