package admin

import (
	"time"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/tracking"
)

// The JSON shapes of the operations API.

type adminModelsJSON struct {
	Models []adminModelJSON `json:"models"`
}

type adminModelJSON struct {
	Name string `json:"name"`
	// ServingVersion is the version with the largest share of traffic;
	// absent when no version serves.
	ServingVersion int                `json:"serving_version,omitempty"`
	Versions       []adminVersionJSON `json:"versions"`
	// Rollout is the model's rollout.json in force; absent without one.
	Rollout *rollout.State `json:"rollout,omitempty"`
	// PersistError says why Rollout, the state in force, is not yet in
	// rollout.json (a read-only or full registry); absent once written.
	PersistError string `json:"persist_error,omitempty"`
	// Analysis is the rollout controller's latest decision on the model,
	// with its reasons; absent when no rollout is in progress.
	Analysis *adminAnalysisJSON `json:"analysis,omitempty"`
}

type adminAnalysisJSON struct {
	At      time.Time `json:"at"`
	Action  string    `json:"action"`
	Step    int       `json:"step"`
	Weight  int       `json:"weight_bp"`
	Reasons []string  `json:"reasons"`
	// Measures are the analysis's comparisons with their statistics,
	// intervals, p-values and sample sizes; absent when none was made.
	Measures []rollout.Measure `json:"measures,omitempty"`
	// Breaches is how many analyses in a row breached a bound.
	Breaches int `json:"consecutive_breaches"`
}

type adminVersionJSON struct {
	Version int    `json:"version"`
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
	// TrafficBP is the version's share of the requests that name no
	// version, in basis points: 10000 is all of them.
	TrafficBP   int                 `json:"traffic_bp"`
	SHA256      string              `json:"sha256,omitempty"`
	CreatedAt   time.Time           `json:"created_at,omitzero"`
	CreatedBy   string              `json:"created_by,omitempty"`
	Description string              `json:"description,omitempty"`
	EvalLabel   string              `json:"eval_label,omitempty"`
	Lineage     *modelstore.Lineage `json:"lineage,omitempty"`
	// Gate is the gate's verdict on this load of the version, every number
	// and reason; absent before the gate has judged it.
	Gate *gate.Verdict `json:"gate,omitempty"`
	// Stats counts what this load of the version answered since it
	// loaded; absent for a version not in memory.
	Stats *adminStatsJSON `json:"stats,omitempty"`
	// Quality is the version's live quality from the labels fed back,
	// beside the gate's offline figures; absent without a quality
	// monitor or before it has seen the version.
	Quality *adminQualityJSON `json:"quality,omitempty"` // Cost is what this load of the version has cost since it loaded;
	// absent for a version not in memory.
	Cost *adminCostJSON `json:"cost,omitempty"`
}

// adminCostJSON is a version's cost (batcher.Cost): compute seconds,
// predictions and, with a price per core-hour, dollars per 1,000
// predictions. The status page reads this shape.
type adminCostJSON struct {
	ComputeSeconds       float64  `json:"compute_seconds"`
	Predictions          int64    `json:"predictions"`
	SecondsPerPrediction float64  `json:"seconds_per_prediction"`
	DollarsPer1k         *float64 `json:"dollars_per_1k,omitempty"`
}

// costJSONOf returns c as the operations API writes it.
func costJSONOf(c batcher.Cost) *adminCostJSON {
	out := &adminCostJSON{ComputeSeconds: c.ComputeSeconds(), Predictions: c.Predictions, SecondsPerPrediction: c.SecondsPerPrediction()}
	if d, ok := c.DollarsPer1k(); ok {
		out.DollarsPer1k = &d
	}
	return out
}

// adminStatsJSON is a version's live figures, as the rollout controller
// sees them.
type adminStatsJSON struct {
	Requests   uint64  `json:"requests"`
	Errors     uint64  `json:"errors"`
	ErrorRate  float64 `json:"error_rate"`
	P99Seconds float64 `json:"p99_seconds"`
	Scores     uint64  `json:"scores"`
}

type adminAuditJSON struct {
	Entries []adminEntryJSON `json:"entries"`
}

type adminEntryJSON struct {
	ID       int64          `json:"id"`
	Time     time.Time      `json:"time"`
	Actor    string         `json:"actor"`
	Action   string         `json:"action"`
	Model    string         `json:"model"`
	Versions []int          `json:"versions"`
	Reason   string         `json:"reason,omitempty"`
	Details  map[string]any `json:"details,omitempty"`
}

type adminRunsJSON struct {
	Runs []adminRunJSON `json:"runs"`
}

// adminRunJSON is a run as MLflow's runs/get describes it (info, params,
// latest metrics, tags), its datasets and, from GET /admin/runs/{id}, the
// model versions it produced.
type adminRunJSON struct {
	Info     adminRunInfoJSON     `json:"info"`
	Params   []adminKVJSON        `json:"params"`
	Metrics  []adminMetricJSON    `json:"metrics"`
	Tags     []adminKVJSON        `json:"tags"`
	Datasets []adminDatasetJSON   `json:"datasets"`
	Versions []adminVersionIDJSON `json:"versions,omitempty"`
}

type adminKVJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type adminRunInfoJSON struct {
	RunID          string `json:"run_id"`
	RunName        string `json:"run_name"`
	ExperimentID   string `json:"experiment_id"`
	UserID         string `json:"user_id"`
	Status         string `json:"status"`
	StartTime      int64  `json:"start_time"`
	EndTime        int64  `json:"end_time,omitempty"`
	ArtifactURI    string `json:"artifact_uri"`
	LifecycleStage string `json:"lifecycle_stage"`
}

type adminMetricJSON struct {
	Key       string         `json:"key"`
	Value     httpapi.Double `json:"value"`
	Timestamp int64          `json:"timestamp"`
	Step      int64          `json:"step"`
}

type adminDatasetJSON struct {
	Role    string   `json:"role"`
	Path    string   `json:"path"`
	SHA256  string   `json:"sha256"`
	Rows    int64    `json:"rows"`
	Columns []string `json:"columns"`
}

type adminVersionIDJSON struct {
	Model   string `json:"model"`
	Version int    `json:"version"`
}

// newAdminRunJSON returns a run, and the versions it produced, in the
// operations API's shape.
func newAdminRunJSON(r *tracking.Run, versions []tracking.VersionRef) adminRunJSON {
	i := r.Info
	out := adminRunJSON{
		Info: adminRunInfoJSON{RunID: i.RunID, RunName: i.RunName, ExperimentID: i.ExperimentID, UserID: i.UserID, Status: i.Status,
			StartTime: i.StartTime, EndTime: i.EndTime, ArtifactURI: i.ArtifactURI, LifecycleStage: i.LifecycleStage},
		Params:   make([]adminKVJSON, len(r.Params)),
		Metrics:  make([]adminMetricJSON, len(r.Metrics)),
		Tags:     make([]adminKVJSON, len(r.Tags)),
		Datasets: make([]adminDatasetJSON, len(r.Datasets)),
	}
	for j, p := range r.Params {
		out.Params[j] = adminKVJSON{p.Key, p.Value}
	}
	for j, m := range r.Metrics {
		out.Metrics[j] = adminMetricJSON{Key: m.Key, Value: httpapi.Double(m.Value), Timestamp: m.Timestamp, Step: m.Step}
	}
	for j, t := range r.Tags {
		out.Tags[j] = adminKVJSON{t.Key, t.Value}
	}
	for j, d := range r.Datasets {
		cols := d.Columns
		if cols == nil {
			cols = []string{}
		}
		out.Datasets[j] = adminDatasetJSON{Role: d.Role, Path: d.Path, SHA256: d.SHA256, Rows: d.Rows, Columns: cols}
	}
	for _, v := range versions {
		out.Versions = append(out.Versions, adminVersionIDJSON{Model: v.Model, Version: v.Version})
	}
	return out
}
