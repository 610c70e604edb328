package mlflow

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/switchyard-ml/switchyard/tracking"
)

// datasetInputFields is a DatasetInput as runs/log-inputs carries it
// (service.proto: DatasetInput{tags, dataset}).
type datasetInputFields struct {
	Tags    []keyValueJSON `json:"tags"`
	Dataset *datasetJSON   `json:"dataset"`
}

// logInputs records a run's dataset inputs, as mlflow.log_input sends
// them; MLflow answers {}.
func (s *Server) logInputs(ctx *request) (any, error) {
	var req struct {
		RunID    string                `json:"run_id"`
		Datasets *[]datasetInputFields `json:"datasets"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	switch {
	case req.RunID == "":
		return nil, missingParam("run_id")
	case req.Datasets == nil:
		return nil, missingParam("datasets")
	}
	inputs := make([]tracking.DatasetInput, len(*req.Datasets))
	for i, d := range *req.Datasets {
		if d.Dataset == nil {
			return nil, missingParam(fmt.Sprintf("datasets[%d].dataset", i))
		}
		inputs[i] = tracking.DatasetInput{Name: d.Dataset.Name, Digest: d.Dataset.Digest, SourceType: d.Dataset.SourceType,
			Source: d.Dataset.Source, Schema: d.Dataset.Schema, Profile: d.Dataset.Profile, Tags: tagsOf(d.Tags)}
	}
	return empty{}, s.tracking.LogInputs(ctx, req.RunID, inputs)
}

// loggedModelFields are the fields MLflow requires of a logged model's
// JSON (handlers.py, _log_model).
var loggedModelFields = []string{"artifact_path", "flavors", "run_id", "utc_time_created"}

// logModel appends a logged model's MLmodel, as mlflow.<flavor>.log_model
// sends it, to the run's mlflow.log-model.history tag; MLflow answers {}.
func (s *Server) logModel(ctx *request) (any, error) {
	var req struct {
		RunID     string `json:"run_id"`
		ModelJSON string `json:"model_json"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	switch {
	case req.RunID == "":
		return nil, missingParam("run_id")
	case req.ModelJSON == "":
		return nil, missingParam("model_json")
	case len(req.ModelJSON) > tracking.MaxTagValueLength:
		return nil, &requestError{fmt.Sprintf("Model json had length %d, which exceeded length limit of %d", len(req.ModelJSON), tracking.MaxTagValueLength)}
	}
	var model map[string]json.RawMessage
	if err := json.Unmarshal([]byte(req.ModelJSON), &model); err != nil || model == nil {
		return nil, &requestError{fmt.Sprintf("Malformed model info. \n %s \n is not a valid JSON.", req.ModelJSON)}
	}
	var missing []string
	for _, f := range loggedModelFields {
		if _, ok := model[f]; !ok {
			missing = append(missing, "'"+f+"'")
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, &requestError{"Model json is missing mandatory fields: {" + strings.Join(missing, ", ") + "}"}
	}
	return empty{}, s.tracking.LogModel(ctx, req.RunID, json.RawMessage(req.ModelJSON))
}
