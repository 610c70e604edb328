package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/switchyard-ml/switchyard/internal/demo"
)

// Defaults and bounds of demo --feedback.
const (
	defaultShiftAfter = time.Minute
	defaultLabelDelay = 5 * time.Second
	// demoFeedbackQueue bounds the labels waiting for their delay: 30
	// seconds of the demo's largest traffic.
	demoFeedbackQueue = 30 * maxDemoTraffic
	// demoFeedbackBatch is the most labels one POST /v1/feedback carries.
	demoFeedbackBatch = 200
)

// demoShift is how demo --feedback's traffic changes: its records and
// labels switch from the eval set's to world's after after, and each
// label is fed back labelDelay after its answer.
type demoShift struct {
	world      *demo.Dataset
	after      time.Duration
	labelDelay time.Duration
}

// demoShiftSummary says how the world shifts for demo --feedback's
// traffic (demo.GenerateShifted).
const demoShiftSummary = "fraud moved to small online digital-goods purchases from French merchants, and foreign purchases without the card are no longer suspect"

// demoShiftAfter says when the traffic's world shifts.
func demoShiftAfter(after time.Duration) string {
	if after == 0 {
		return "the world never shifting (--shift-after 0)"
	}
	return fmt.Sprintf("the world shifting after %s (--shift-after): %s", after, demoShiftSummary)
}

// demoLabel is the true label of one answered prediction, due to be fed
// back at due.
type demoLabel struct {
	id    string
	fraud bool
	due   time.Time
}

// demoFeedback feeds the true labels of the background traffic's
// predictions back to the server, each delay after its answer, in
// batches. The traffic hands labels over with offer, which never blocks;
// run, the only reader of the queue, posts them.
type demoFeedback struct {
	url    string
	client *http.Client
	delay  time.Duration
	stderr io.Writer
	// queue holds the labels waiting for their delay, in the order they
	// are due (the delay is the same for all).
	queue chan demoLabel
	// dropped counts the labels offer found no room for; accepted the
	// labels the server took.
	dropped, accepted atomic.Int64
}

// newDemoFeedback returns a feeder that posts to url, delay after each
// prediction.
func newDemoFeedback(url string, client *http.Client, delay time.Duration, stderr io.Writer) *demoFeedback {
	return &demoFeedback{url: url, client: client, delay: delay, stderr: stderr, queue: make(chan demoLabel, demoFeedbackQueue)}
}

// offer queues the label of prediction id, due delay from now, or, if the
// queue is full, drops it and counts it.
func (f *demoFeedback) offer(id string, fraud bool) {
	select {
	case f.queue <- demoLabel{id: id, fraud: fraud, due: time.Now().Add(f.delay)}:
	default:
		f.dropped.Add(1)
	}
}

// run posts the labels as they fall due, up to demoFeedbackBatch at a time,
// until ctx is done; labels still waiting then are not sent. The first
// post that fails is reported on stderr; the feeding goes on.
func (f *demoFeedback) run(ctx context.Context) {
	defer func() {
		if n := f.dropped.Load(); n > 0 {
			fmt.Fprintf(f.stderr, "demo feedback: %d labels dropped, the queue of %d full; %d taken\n", n, demoFeedbackQueue, f.accepted.Load())
		}
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	batch := make([]demoLabel, 0, demoFeedbackBatch)
	var next *demoLabel // taken from the queue, not yet due
	reported := false
	for {
		if next == nil {
			select {
			case <-ctx.Done():
				return
			case l := <-f.queue:
				next = &l
			}
		}
		if wait := time.Until(next.due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		batch = append(batch[:0], *next)
		next = nil
	fill:
		for len(batch) < demoFeedbackBatch {
			select {
			case l := <-f.queue:
				if l.due.After(time.Now()) {
					next = &l
					break fill
				}
				batch = append(batch, l)
			default:
				break fill
			}
		}
		if err := f.post(ctx, batch); err != nil && ctx.Err() == nil && !reported {
			reported = true
			fmt.Fprintf(f.stderr, "demo feedback: %v (reported once; the feeding goes on)\n", err)
		}
	}
}

// post sends batch to POST /v1/feedback and counts what the server took.
func (f *demoFeedback) post(ctx context.Context, batch []demoLabel) error {
	body := make([]byte, 0, 64*len(batch))
	body = append(body, '[')
	for i, l := range batch {
		if i > 0 {
			body = append(body, ',')
		}
		label := "legit"
		if l.fraud {
			label = "fraud"
		}
		body = fmt.Appendf(body, `{"prediction_id":%q,"label":%q}`, l.id, label)
	}
	body = append(body, ']')
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("BUG: demo feedback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var ans struct {
		Accepted int `json:"accepted"`
		Results  []struct {
			PredictionID string `json:"prediction_id"`
			Status       string `json:"status"`
			Message      string `json:"message"`
		} `json:"results"`
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("POST %s: %w", f.url, err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusMultiStatus {
		return fmt.Errorf("POST %s answered %s: %s", f.url, resp.Status, bytes.TrimSpace(raw))
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("POST %s: the answer: %w", f.url, err)
	}
	f.accepted.Add(int64(ans.Accepted))
	if resp.StatusCode == http.StatusMultiStatus {
		for _, r := range ans.Results {
			if r.Status != "accepted" && r.Status != "duplicate" {
				return fmt.Errorf("POST %s: %d of %d labels taken; %s: %s %s", f.url, ans.Accepted, len(batch), r.PredictionID, r.Status, r.Message)
			}
		}
	}
	return nil
}

// demoPredictionID returns the first prediction id of a records answer.
func demoPredictionID(answer []byte) (string, error) {
	var a struct {
		PredictionIDs []string `json:"prediction_ids"`
	}
	if err := json.Unmarshal(answer, &a); err != nil {
		return "", fmt.Errorf("the answer: %w", err)
	}
	if len(a.PredictionIDs) == 0 || a.PredictionIDs[0] == "" {
		return "", fmt.Errorf("the answer has no prediction id: %s", answer)
	}
	return a.PredictionIDs[0], nil
}
