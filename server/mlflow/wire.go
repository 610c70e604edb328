package mlflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"strconv"

	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/tracking"
)

// The JSON shapes of MLflow's REST API 2.0 (mlflow/protos/service.proto,
// as MLflow's server writes them: snake_case names, int64 as JSON
// numbers, enums by name, empty lists and unset fields left out,
// non-finite doubles as "NaN", "Infinity" and "-Infinity").

type keyValueJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type experimentJSON struct {
	ExperimentID     string         `json:"experiment_id"`
	Name             string         `json:"name"`
	ArtifactLocation string         `json:"artifact_location"`
	LifecycleStage   string         `json:"lifecycle_stage"`
	LastUpdateTime   int64          `json:"last_update_time,omitempty"`
	CreationTime     int64          `json:"creation_time,omitempty"`
	Tags             []keyValueJSON `json:"tags,omitempty"`
}

type runJSON struct {
	Info   runInfoJSON   `json:"info"`
	Data   runDataJSON   `json:"data"`
	Inputs runInputsJSON `json:"inputs"`
}

type runInfoJSON struct {
	RunID          string `json:"run_id"`
	RunUUID        string `json:"run_uuid"`
	RunName        string `json:"run_name,omitempty"`
	ExperimentID   string `json:"experiment_id"`
	UserID         string `json:"user_id"`
	Status         string `json:"status"`
	StartTime      int64  `json:"start_time"`
	EndTime        int64  `json:"end_time,omitempty"`
	ArtifactURI    string `json:"artifact_uri,omitempty"`
	LifecycleStage string `json:"lifecycle_stage"`
}

type runDataJSON struct {
	Metrics []metricJSON   `json:"metrics,omitempty"`
	Params  []keyValueJSON `json:"params,omitempty"`
	Tags    []keyValueJSON `json:"tags,omitempty"`
}

type runInputsJSON struct {
	DatasetInputs []datasetInputJSON `json:"dataset_inputs,omitempty"`
}

type datasetInputJSON struct {
	Tags    []keyValueJSON `json:"tags,omitempty"`
	Dataset datasetJSON    `json:"dataset"`
}

type datasetJSON struct {
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	SourceType string `json:"source_type"`
	Source     string `json:"source"`
	Schema     string `json:"schema,omitempty"`
	Profile    string `json:"profile,omitempty"`
}

type metricJSON struct {
	Key       string         `json:"key"`
	Value     httpapi.Double `json:"value"`
	Timestamp jsonInt64      `json:"timestamp"`
	Step      jsonInt64      `json:"step"`
}

// jsonInt64 is an int64 that MLflow clients send as a JSON number or a
// decimal string; it is written as a number.
type jsonInt64 int64

// UnmarshalJSON accepts 12, "12" and null.
func (n *jsonInt64) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	b = bytes.Trim(b, `"`)
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(b), 64)
		if ferr != nil || f != math.Trunc(f) {
			return fmt.Errorf("%s is not an integer", b)
		}
		v = int64(f)
	}
	*n = jsonInt64(v)
	return nil
}

// jsonID is an id that MLflow clients may send as a number or a string
// (experiment ids); it is kept as a string.
type jsonID string

// UnmarshalJSON accepts "7" and 7.
func (id *jsonID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = jsonID(s)
		return nil
	}
	if _, err := strconv.ParseInt(string(b), 10, 64); err != nil {
		return fmt.Errorf("%s is not an id", b)
	}
	*id = jsonID(b)
	return nil
}

func tagsJSON(tags []tracking.Tag) []keyValueJSON {
	out := make([]keyValueJSON, len(tags))
	for i, t := range tags {
		out[i] = keyValueJSON{t.Key, t.Value}
	}
	return out
}

func tagsOf(kv []keyValueJSON) []tracking.Tag {
	out := make([]tracking.Tag, len(kv))
	for i, t := range kv {
		out[i] = tracking.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func newExperimentJSON(e *tracking.Experiment) experimentJSON {
	return experimentJSON{ExperimentID: e.ID, Name: e.Name, ArtifactLocation: e.ArtifactLocation,
		LifecycleStage: e.LifecycleStage, LastUpdateTime: e.LastUpdateTime, CreationTime: e.CreationTime, Tags: tagsJSON(e.Tags)}
}

func newRunInfoJSON(i *tracking.RunInfo) runInfoJSON {
	return runInfoJSON{RunID: i.RunID, RunUUID: i.RunID, RunName: i.RunName, ExperimentID: i.ExperimentID, UserID: i.UserID,
		Status: i.Status, StartTime: i.StartTime, EndTime: i.EndTime, ArtifactURI: i.ArtifactURI, LifecycleStage: i.LifecycleStage}
}

func newRunJSON(r *tracking.Run) runJSON {
	out := runJSON{Info: newRunInfoJSON(&r.Info), Data: runDataJSON{Tags: tagsJSON(r.Tags)}}
	for _, m := range r.Metrics {
		out.Data.Metrics = append(out.Data.Metrics, newMetricJSON(m))
	}
	for _, p := range r.Params {
		out.Data.Params = append(out.Data.Params, keyValueJSON{p.Key, p.Value})
	}
	for _, d := range r.Datasets {
		source, _ := json.Marshal(map[string]any{"uri": d.Path, "sha256": d.SHA256, "rows": d.Rows, "columns": d.Columns})
		out.Inputs.DatasetInputs = append(out.Inputs.DatasetInputs, datasetInputJSON{
			Tags:    []keyValueJSON{{"mlflow.data.context", d.Role}},
			Dataset: datasetJSON{Name: path.Base(d.Path), Digest: d.SHA256[:12], SourceType: "local", Source: string(source)},
		})
	}
	for _, d := range r.Inputs {
		out.Inputs.DatasetInputs = append(out.Inputs.DatasetInputs, datasetInputJSON{
			Tags:    tagsJSON(d.Tags),
			Dataset: datasetJSON{Name: d.Name, Digest: d.Digest, SourceType: d.SourceType, Source: d.Source, Schema: d.Schema, Profile: d.Profile},
		})
	}
	if len(out.Data.Tags) == 0 {
		out.Data.Tags = nil
	}
	return out
}

func newMetricJSON(m tracking.Metric) metricJSON {
	return metricJSON{Key: m.Key, Value: httpapi.Double(m.Value), Timestamp: jsonInt64(m.Timestamp), Step: jsonInt64(m.Step)}
}
