package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/switchyard-ml/switchyard/tracking"
)

// Alert is a change of drift state of one column, or of the dataset
// (Feature ""): from no drift to drift (Drifted) or back.
type Alert struct {
	Model   string    `json:"model"`
	Version int       `json:"version"`
	Feature string    `json:"feature,omitempty"`
	Drifted bool      `json:"drifted"`
	At      time.Time `json:"at"`
	// Result is the column's comparison; nil for the dataset.
	Result *Result `json:"result,omitempty"`
	// Share and DatasetShare are the share of drifted features and the
	// policy's bound, for the dataset.
	Share        float64   `json:"dataset_drift_share"`
	DatasetShare float64   `json:"dataset_share"`
	WindowStart  time.Time `json:"window_start"`
	WindowEnd    time.Time `json:"window_end"`
	Rows         int       `json:"rows"`
}

// what names the alert's subject in words.
func (a *Alert) what() string {
	if a.Feature == "" {
		return "dataset"
	}
	return "feature " + a.Feature
}

// message is the alert as a sentence, for the log and the audit trail.
func (a *Alert) message() string {
	state := "no longer drifts"
	if a.Drifted {
		state = "drifts"
	}
	if a.Result == nil {
		return fmt.Sprintf("%s/%d: the dataset %s: %.2f of the features drifted (bound %.2f) over %d rows", a.Model, a.Version, state, a.Share, a.DatasetShare, a.Rows)
	}
	r := a.Result
	if r.PValue != nil {
		return fmt.Sprintf("%s/%d: %s %s: %s p=%.4g (drift below %g) over %d rows", a.Model, a.Version, a.what(), state, r.Test, *r.PValue, r.Threshold, a.Rows)
	}
	return fmt.Sprintf("%s/%d: %s %s: %s %.4g (drift from %g) over %d rows", a.Model, a.Version, a.what(), state, r.Test, r.Statistic, r.Threshold, a.Rows)
}

// details are the alert's numbers for the audit trail.
func (a *Alert) details() map[string]any {
	d := map[string]any{"drifted": a.Drifted, "rows": a.Rows, "window_start": a.WindowStart, "window_end": a.WindowEnd}
	if a.Feature != "" {
		d["feature"] = a.Feature
	}
	if r := a.Result; r != nil {
		d["test"], d["statistic"], d["threshold"] = string(r.Test), r.Statistic, r.Threshold
		if r.PValue != nil {
			d["p_value"] = *r.PValue
		}
	} else {
		d["dataset_drift_share"], d["dataset_share"] = a.Share, a.DatasetShare
	}
	return d
}

// Auditor records alerts in the audit trail: *tracking.Store implements
// it.
type Auditor interface {
	Audit(ctx context.Context, e tracking.Entry) error
}

// auditTimeout bounds one audit write from the monitor's goroutine.
const auditTimeout = 5 * time.Second

// raise logs a, audits it, hands it to Config.OnAlert and queues it for
// the webhook.
func (m *Monitor) raise(a Alert) {
	m.metrics.alerts.Inc()
	level := slog.LevelInfo
	if a.Drifted {
		level = slog.LevelWarn
	}
	m.log.Log(context.Background(), level, "drift alert: "+a.message(), "model", a.Model, "version", a.Version,
		"feature", a.Feature, "drifted", a.Drifted)
	if m.cfg.Auditor != nil {
		action := "drift_resolved"
		if a.Drifted {
			action = "drift_detected"
		}
		ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
		err := m.cfg.Auditor.Audit(ctx, tracking.Entry{Time: a.At, Actor: "drift", Action: action, Model: a.Model,
			Versions: []int{a.Version}, Reason: a.message(), Details: a.details()})
		cancel()
		if err != nil {
			m.log.Error("drift alert not audited", "model", a.Model, "version", a.Version, "error", err)
		}
	}
	if m.cfg.OnAlert != nil {
		m.cfg.OnAlert(a)
	}
	if m.hooks != nil {
		select {
		case m.hooks <- a:
		default:
			m.metrics.webhookDropped.Inc()
		}
	}
}

// The webhook's defaults.
const (
	DefaultWebhookTimeout = 5 * time.Second
	DefaultWebhookRetries = 3
	DefaultWebhookBackoff = 500 * time.Millisecond
	DefaultWebhookQueue   = 64
)

// CheckWebhook refuses an alert webhook that is not an absolute http or
// https URL, so that a command can check its flag before it starts
// anything.
func CheckWebhook(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("drift: alert webhook %q: want an http or https URL", raw)
	}
	return nil
}

// deliver posts the queued alerts to the webhook until ctx ends. It is
// the webhook's own goroutine, so that a slow receiver never delays the
// monitor's schedule.
func (m *Monitor) deliver(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-m.hooks:
			if err := m.post(ctx, &a); err != nil {
				m.metrics.webhookFailed.Inc()
				m.log.Error("drift alert webhook failed", "model", a.Model, "version", a.Version, "feature", a.Feature, "error", err)
			}
		}
	}
}

// post sends a to the webhook as JSON, retrying a failed delivery (a
// transport error or a status other than 2xx) with doubling backoff.
func (m *Monitor) post(ctx context.Context, a *Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	backoff := m.cfg.WebhookBackoff
	for try := 0; ; try++ {
		err = m.postOnce(ctx, body)
		if err == nil || try >= m.cfg.WebhookRetries {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (after %d tries)", err, try+1)
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func (m *Monitor) postOnce(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.cfg.Webhook, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", m.cfg.Webhook, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := m.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s: status %d", m.cfg.Webhook, resp.StatusCode)
	}
	return nil
}
