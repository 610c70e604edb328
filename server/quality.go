package server

import (
	"errors"
	"io/fs"
	"math"
	"path/filepath"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/quality"
	"github.com/switchyard-ml/switchyard/tracking"
)

// Quality is the live quality monitor as the server needs it:
// *quality.Monitor implements it. The server hands it the predictions
// whose label POST /v1/feedback just joined, and the operations API
// shows its reports beside the gate's figures.
type Quality interface {
	// Labelled takes the accepted labels' predictions without blocking.
	Labelled(ps []tracking.Prediction)
	// Report returns a version's latest live quality report.
	Report(model string, version int) (quality.VersionReport, bool)
}

// QualityVersions returns the served versions of models as the live
// quality monitor sees them (quality.Versions): what each predicts, read
// from the score the server logs (modelstore's score rule) and the
// manifest's classes, where its calibration.json lies, the gate's figures
// on its evaluation set, and the model's quality block of policy.yaml.
func QualityVersions(models Models) quality.Versions { return qualityVersions{models} }

type qualityVersions struct{ models Models }

// Describe describes version of model while it is ready or draining.
func (q qualityVersions) Describe(model string, version int) (quality.Description, bool) {
	m := q.models.Model(model)
	if m == nil {
		return quality.Description{}, false
	}
	v := m.Version(version)
	if v == nil || (v.State() != modelstore.Ready && v.State() != modelstore.Draining) {
		return quality.Description{}, false
	}
	d := quality.Description{Dir: v.Dir, Offline: offlineMetrics(v.Verdict())}
	if v.Manifest != nil {
		d.Classes = v.Manifest.Classes
	}
	switch k := v.ScoreClasses(); {
	case k == 2:
		d.Kind = quality.Binary
	case k > 2:
		d.Kind, d.ClassCount = quality.Multiclass, k
	case len(d.Classes) == 2: // one probability per row: the positive class's
		d.Kind = quality.Binary
	case len(d.Classes) > 2:
		d.Problem = "the model gives its class without probabilities: live quality needs them"
	default:
		d.Kind = quality.Regression
	}
	return d, true
}

// Policy reads the quality block of the model's policy.yaml over the
// defaults; a model without the file has the defaults.
func (q qualityVersions) Policy(model string) (quality.Policy, error) {
	m := q.models.Model(model)
	if m == nil || len(m.Versions) == 0 {
		return quality.DefaultPolicy(), nil
	}
	p, err := modelstore.ReadPolicy(filepath.Join(filepath.Dir(m.Versions[0].Dir), modelstore.PolicyFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return quality.DefaultPolicy(), nil
	case err != nil:
		return quality.DefaultPolicy(), err
	}
	return p.Quality.Apply(quality.DefaultPolicy()), nil
}

// offlineMetrics returns the gate's figures of v on its whole evaluation
// set, for the metrics the live windows measure.
func offlineMetrics(v *gate.Verdict) quality.Metrics {
	var out quality.Metrics
	if v == nil {
		return out
	}
	for _, m := range v.Metrics {
		x := float64(m.Candidate)
		if m.Slice != "" || math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		switch m.Name {
		case gate.MetricAccuracy:
			out.Accuracy = &x
		case gate.MetricAUC:
			out.AUC = &x
		case gate.MetricLogLoss:
			out.LogLoss = &x
		case gate.MetricRMSE:
			out.RMSE = &x
		case gate.MetricMAE:
			out.MAE = &x
		}
	}
	return out
}
