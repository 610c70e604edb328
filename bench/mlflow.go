package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
	"time"
)

// MLflowLoad is what the MLflow load beside a phase did, or, in
// TrackingReport, the sum over every phase. It is a plain value.
type MLflowLoad struct {
	// Runs counts the runs it created.
	Runs int `json:"runs"`
	// Requests counts its requests, run creations included; Metrics
	// counts the log-metric requests answered 200.
	Requests int64 `json:"requests"`
	Metrics  int64 `json:"metrics"`
	// Errors counts the requests answered otherwise, or not at all, and
	// run creations answered with no run id. FirstError describes one.
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// Seconds is how long it logged metrics, and MetricsPerSec the rate
	// it achieved: Metrics over Seconds.
	Seconds       float64 `json:"seconds"`
	MetricsPerSec float64 `json:"metrics_per_sec"`
}

// runMLflowLoad creates MLflowRuns runs in the default experiment through
// the MLflow API at addr, then logs a metric to each in turn, rate times a
// second in all, until ctx is done. It uses one connection of its own and
// records what it did in l, which it owns until it returns.
func runMLflowLoad(ctx context.Context, addr string, rate float64, l *MLflowLoad) {
	hc := &fasthttp.HostClient{Addr: addr, Name: "switchyard-bench-mlflow", MaxConns: 1,
		MaxIdemponentCallAttempts: 1, ReadTimeout: DefaultTimeout, WriteTimeout: DefaultTimeout}
	defer hc.CloseIdleConnections()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	// post sends v as JSON to the endpoint and reports a 200; resp holds
	// the answer until the next call.
	post := func(endpoint string, v any) bool {
		body, _ := json.Marshal(v) // strings and finite numbers always encode
		req.SetRequestURI("http://" + addr + "/api/2.0/mlflow/" + endpoint)
		req.SetBody(body)
		l.Requests++
		if err := hc.Do(req, resp); err != nil {
			l.fail(fmt.Sprintf("%s: %v", endpoint, err))
			return false
		}
		if resp.StatusCode() != fasthttp.StatusOK {
			l.fail(fmt.Sprintf("%s: status %d: %.200s", endpoint, resp.StatusCode(), resp.Body()))
			return false
		}
		return true
	}
	var runs []string
	for i := 1; i <= MLflowRuns && ctx.Err() == nil; i++ {
		if !post("runs/create", map[string]string{"experiment_id": "0", "run_name": fmt.Sprintf("switchyard-bench-%d", i)}) {
			continue
		}
		id := fastjson.GetString(resp.Body(), "run", "info", "run_id")
		if id == "" {
			l.fail(fmt.Sprintf("runs/create: answered %.200s, with no run id", resp.Body()))
			continue
		}
		runs = append(runs, id)
	}
	l.Runs = len(runs)
	if len(runs) == 0 {
		return
	}
	tick := time.NewTicker(max(time.Duration(float64(time.Second)/rate), time.Microsecond))
	defer tick.Stop()
	start := time.Now()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			if l.Seconds = time.Since(start).Seconds(); l.Seconds > 0 {
				l.MetricsPerSec = float64(l.Metrics) / l.Seconds
			}
			return
		case <-tick.C:
		}
		step := i / len(runs)
		if post("runs/log-metric", map[string]any{"run_id": runs[i%len(runs)], "key": "loss",
			"value": 1 / float64(step+1), "timestamp": time.Now().UnixMilli(), "step": step}) {
			l.Metrics++
		}
	}
}

// fail counts an error, keeping the first one's text.
func (l *MLflowLoad) fail(msg string) {
	l.Errors++
	if l.FirstError == "" {
		l.FirstError = msg
	}
}

// summary describes l in a progress line; nothing for nil.
func (l *MLflowLoad) summary() string {
	if l == nil {
		return ""
	}
	return fmt.Sprintf("  MLflow %d runs, %d metrics at %.1f/s, %d errors", l.Runs, l.Metrics, l.MetricsPerSec, l.Errors)
}
