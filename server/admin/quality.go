package admin

import (
	"time"

	"github.com/switchyard-ml/switchyard/quality"
)

// QualityReports gives the operations API the live quality monitor's
// latest report of a version: *quality.Monitor implements it.
type QualityReports interface {
	Report(model string, version int) (quality.VersionReport, bool)
}

// adminQualityJSON is a version's live quality in GET /admin/models/{m},
// beside the gate's offline figures for the same metrics.
type adminQualityJSON struct {
	// Status is ok, waiting (fewer labels than min_labels), unsupported
	// or invalid_policy; Reason says why when it is not ok.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Live are the figures over the window of labelled predictions;
	// Offline the gate's on the evaluation set.
	Live    quality.Metrics `json:"live"`
	Offline quality.Metrics `json:"offline"`
	// Labelled counts the window's labelled predictions; Predicted the
	// predictions logged over its span, LabelledShare their share
	// labelled (absent when unknown, after a restart).
	Labelled      int      `json:"labelled"`
	Predicted     int      `json:"predicted"`
	LabelledShare *float64 `json:"labelled_share,omitempty"`
	// LabelDelay* are the median and 90th percentile of the time from
	// prediction to label.
	LabelDelayMedianSeconds float64 `json:"label_delay_median_seconds"`
	LabelDelayP90Seconds    float64 `json:"label_delay_p90_seconds"`
	// Estimated is CBPE's estimate before labels; EstimateReason says why
	// there is none.
	Estimated      *quality.Estimated `json:"estimated,omitempty"`
	EstimateReason string             `json:"estimate_reason,omitempty"`
	// Alarms are the alarms in force (accuracy_drop,
	// estimated_accuracy_drop).
	Alarms          []string  `json:"alarms"`
	MinLabels       int       `json:"min_labels"`
	MaxAccuracyDrop float64   `json:"max_accuracy_drop"`
	UnusableLabels  int       `json:"unusable_labels,omitempty"`
	EvaluatedAt     time.Time `json:"evaluated_at,omitzero"`
}

// qualityOf returns the live quality of a version, or nil when there is
// no monitor or it has not seen the version.
func (s *Server) qualityOf(model string, version int) *adminQualityJSON {
	if s.cfg.Quality == nil {
		return nil
	}
	vr, ok := s.cfg.Quality.Report(model, version)
	if !ok {
		return nil
	}
	l := &vr.Live
	return &adminQualityJSON{Status: vr.Status, Reason: vr.Reason,
		Live:     quality.Metrics{Accuracy: l.Accuracy, AUC: l.AUC, LogLoss: l.LogLoss, RMSE: l.RMSE, MAE: l.MAE},
		Offline:  vr.Offline,
		Labelled: l.Labelled, Predicted: l.Predicted, LabelledShare: l.LabelledShare,
		LabelDelayMedianSeconds: l.DelayMedian.Seconds(), LabelDelayP90Seconds: l.DelayP90.Seconds(),
		Estimated: vr.Estimated, EstimateReason: vr.EstimateReason, Alarms: vr.Alarms,
		MinLabels: vr.MinLabels, MaxAccuracyDrop: vr.MaxAccuracyDrop, UnusableLabels: vr.Unusable, EvaluatedAt: vr.EvaluatedAt}
}
