package quality

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/switchyard-ml/switchyard/tracking"
)

// This file is the feeds' side of the monitor: copying what it needs of
// the logged predictions and of the labels joined to them, and handing
// the copies to its goroutine without ever waiting on it.

// feedBatch is one hand-off to the monitor: the scores of a batch of
// logged predictions, or a batch of labelled predictions.
type feedBatch struct {
	scored   []scored
	labelled []labelled
}

// scored is a logged prediction as the CBPE window and the labelled share
// need it.
type scored struct {
	key streamKey
	at  time.Time
	// score is the prediction's score; rows is how many it had: only a
	// prediction of one row is scored (a V2 batch under one id is only
	// counted).
	score float64
	rows  int
}

// labelled is a labelled prediction as the live window needs it.
type labelled struct {
	key        streamKey
	id         string
	at         time.Time
	labelledAt time.Time
	scores     []float64
	label      json.RawMessage
}

// Predicted takes the scores of a batch of predictions just written to
// the log: it is the prediction log's LogConfig.OnWrite. It copies what
// it needs and hands it to the monitor without waiting: when the
// monitor is behind the batch is dropped and counted. It keeps nothing
// of batch. Safe for concurrent use; nil-safe.
func (m *Monitor) Predicted(batch []tracking.Prediction) {
	if m == nil || len(batch) == 0 {
		return
	}
	b := feedBatch{scored: make([]scored, len(batch))}
	for i, p := range batch {
		s := scored{key: streamKey{p.Model, p.Version}, at: p.Time, rows: len(p.Scores)}
		if len(p.Scores) > 0 {
			s.score = p.Scores[0]
		}
		b.scored[i] = s
	}
	m.offer(b, len(batch))
}

// Labelled takes predictions whose label was just joined (the accepted
// results of tracking.Store.Feedback, each FeedbackResult.Prediction).
// It copies what it needs and hands it to the monitor without waiting:
// when the monitor is behind the labels are dropped from the live
// windows (they stay in the log) and counted. It keeps nothing of ps.
// Safe for concurrent use; nil-safe.
func (m *Monitor) Labelled(ps []tracking.Prediction) {
	if m == nil || len(ps) == 0 {
		return
	}
	b := feedBatch{labelled: make([]labelled, 0, len(ps))}
	for _, p := range ps {
		if p.Model == "" || p.Label == nil {
			continue
		}
		b.labelled = append(b.labelled, copyLabelled(p))
	}
	if len(b.labelled) > 0 {
		m.offer(b, len(b.labelled))
	}
}

// copyLabelled copies what the live window needs of p.
func copyLabelled(p tracking.Prediction) labelled {
	return labelled{key: streamKey{p.Model, p.Version}, id: p.ID, at: p.Time, labelledAt: p.LabelTime,
		scores: slices.Clone(p.Scores), label: slices.Clone(p.Label)}
}

// offer hands b (of n predictions) to the monitor, or drops and counts it.
func (m *Monitor) offer(b feedBatch, n int) {
	select {
	case m.feed <- b:
	default:
		m.metrics.dropped.Add(float64(n))
	}
}

// take puts a batch into its versions' windows; it runs in Run.
func (m *Monitor) take(ctx context.Context, b feedBatch) {
	for _, s := range b.scored {
		if st := m.stream(ctx, s.key); st != nil {
			st.addScored(s)
			m.metrics.countClass(st, s)
		}
	}
	for _, l := range b.labelled {
		if st := m.stream(ctx, l.key); st != nil {
			m.addLabelled(st, l)
		}
	}
}

// addLabelled puts l into st's live window, unless the backfill read it
// already; a label the monitor cannot read is counted and logged once per
// version.
func (m *Monitor) addLabelled(st *stream, l labelled) {
	if _, dup := st.backfilled[l.id]; dup {
		return
	}
	if err := st.addLabelled(l); err != nil {
		m.metrics.unusable.Inc()
		if st.unusable == 0 {
			m.log.Warn("quality: a label cannot be measured", "model", st.key.model, "version", st.key.version,
				"prediction_id", l.id, "error", err)
		}
		st.unusable++
	}
}
