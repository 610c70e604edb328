package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/quality"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// The views the verbs print; their JSON is the operations API's.

type modelView struct {
	Name           string        `json:"name"`
	ServingVersion int           `json:"serving_version"`
	Versions       []versionView `json:"versions"`
	// Rollout is the model's rollout.json in force; nil without one.
	Rollout *rollout.State `json:"rollout"`
	// Analysis is the rollout controller's latest decision; nil on disk
	// or when no rollout is in progress.
	Analysis *struct {
		At      time.Time `json:"at"`
		Action  string    `json:"action"`
		Reasons []string  `json:"reasons"`
	} `json:"analysis"`
}

type versionView struct {
	Version   int                 `json:"version"`
	State     string              `json:"state"`
	Reason    string              `json:"reason"`
	TrafficBP int                 `json:"traffic_bp"`
	SHA256    string              `json:"sha256"`
	Lineage   *modelstore.Lineage `json:"lineage"`
	// Gate is the gate's latest verdict on the version; nil when it has
	// not judged it.
	Gate *gate.Verdict `json:"gate"`
	// Quality is the version's live quality from the labels fed back,
	// beside the gate's figures; nil on disk or before the server's
	// quality monitor has seen the version.
	Quality *qualityView `json:"quality"`
	// Cost is what this load of the version has cost; nil on disk or
	// for a version not in memory.
	Cost *costView `json:"cost"`
}

// costView is a version's cost, as GET /admin/models/{m} gives it.
type costView struct {
	ComputeSeconds       float64  `json:"compute_seconds"`
	Predictions          int64    `json:"predictions"`
	SecondsPerPrediction float64  `json:"seconds_per_prediction"`
	DollarsPer1k         *float64 `json:"dollars_per_1k"`
}

// qualityView is a version's live quality, as GET /admin/models/{m}
// gives it.
type qualityView struct {
	Status                  string          `json:"status"`
	Reason                  string          `json:"reason"`
	Live                    quality.Metrics `json:"live"`
	Offline                 quality.Metrics `json:"offline"`
	Labelled                int             `json:"labelled"`
	LabelledShare           *float64        `json:"labelled_share"`
	LabelDelayMedianSeconds float64         `json:"label_delay_median_seconds"`
	Estimated               *struct {
		Accuracy float64  `json:"accuracy"`
		AUC      *float64 `json:"auc"`
	} `json:"estimated"`
	Alarms []string `json:"alarms"`
}

type runView struct {
	Info struct {
		RunID          string `json:"run_id"`
		RunName        string `json:"run_name"`
		ExperimentID   string `json:"experiment_id"`
		UserID         string `json:"user_id"`
		Status         string `json:"status"`
		StartTime      int64  `json:"start_time"`
		EndTime        int64  `json:"end_time"`
		ArtifactURI    string `json:"artifact_uri"`
		LifecycleStage string `json:"lifecycle_stage"`
	} `json:"info"`
	Params   []kvView         `json:"params"`
	Metrics  []metricView     `json:"metrics"`
	Tags     []kvView         `json:"tags"`
	Datasets []datasetView    `json:"datasets"`
	Versions []versionRefView `json:"versions"`
}

type versionRefView struct {
	Model   string `json:"model"`
	Version int    `json:"version"`
}

type kvView struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type metricView struct {
	Key       string      `json:"key"`
	Value     metricValue `json:"value"`
	Timestamp int64       `json:"timestamp"`
	Step      int64       `json:"step"`
}

type datasetView struct {
	Role    string   `json:"role"`
	Path    string   `json:"path"`
	SHA256  string   `json:"sha256"`
	Rows    int64    `json:"rows"`
	Columns []string `json:"columns"`
}

type entryView struct {
	ID       int64          `json:"id"`
	Time     time.Time      `json:"time"`
	Actor    string         `json:"actor"`
	Action   string         `json:"action"`
	Model    string         `json:"model"`
	Versions []int          `json:"versions"`
	Reason   string         `json:"reason"`
	Details  map[string]any `json:"details"`
}

// metricValue is a metric's value, which the operations API writes as a
// number or, as MLflow does, "NaN", "Infinity" or "-Infinity".
type metricValue float64

// UnmarshalJSON reads a number or one of MLflow's names of the others.
func (m *metricValue) UnmarshalJSON(b []byte) error {
	switch s := strings.Trim(string(b), `"`); s {
	case "NaN":
		*m = metricValue(math.NaN())
	case "Infinity":
		*m = metricValue(math.Inf(1))
	case "-Infinity":
		*m = metricValue(math.Inf(-1))
	default:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("metric value %s is not a number", b)
		}
		*m = metricValue(f)
	}
	return nil
}

// String writes the value as MLflow's runs/get does.
func (m metricValue) String() string {
	f := float64(m)
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// runViewOf returns a run as the operations API describes it.
func runViewOf(r *tracking.Run, versions []tracking.VersionRef) runView {
	var v runView
	i := &v.Info
	i.RunID, i.RunName, i.ExperimentID, i.UserID, i.Status = r.Info.RunID, r.Info.RunName, r.Info.ExperimentID, r.Info.UserID, r.Info.Status
	i.StartTime, i.EndTime, i.ArtifactURI, i.LifecycleStage = r.Info.StartTime, r.Info.EndTime, r.Info.ArtifactURI, r.Info.LifecycleStage
	for _, p := range r.Params {
		v.Params = append(v.Params, kvView{p.Key, p.Value})
	}
	for _, m := range r.Metrics {
		v.Metrics = append(v.Metrics, metricView{Key: m.Key, Value: metricValue(m.Value), Timestamp: m.Timestamp, Step: m.Step})
	}
	for _, t := range r.Tags {
		v.Tags = append(v.Tags, kvView{t.Key, t.Value})
	}
	for _, d := range r.Datasets {
		v.Datasets = append(v.Datasets, datasetView{Role: d.Role, Path: d.Path, SHA256: d.SHA256, Rows: d.Rows, Columns: d.Columns})
	}
	for _, ref := range versions {
		v.Versions = append(v.Versions, versionRefView{ref.Model, ref.Version})
	}
	return v
}
