package mlflow

import (
	"strconv"
	"strings"

	"github.com/switchyard-ml/switchyard/tracking"
)

// maxExperimentName is MLflow's limit on an experiment's name.
const maxExperimentName = 500

func (s *Server) createExperiment(ctx *request) (any, error) {
	var req struct {
		Name             string         `json:"name"`
		ArtifactLocation string         `json:"artifact_location"`
		Tags             []keyValueJSON `json:"tags"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, missingParam("name")
	}
	if len(req.Name) > maxExperimentName {
		return nil, &requestError{"'name' exceeds the maximum length of 500 characters"}
	}
	if strings.ContainsAny(req.ArtifactLocation, "#?") {
		return nil, &requestError{"'artifact_location' URL can't include fragments or params."}
	}
	id, err := s.tracking.CreateExperiment(ctx, req.Name, req.ArtifactLocation, tagsOf(req.Tags))
	if err != nil {
		return nil, err
	}
	return map[string]string{"experiment_id": id}, nil
}

type experimentResponse struct {
	Experiment experimentJSON `json:"experiment"`
}

func (s *Server) getExperiment(ctx *request) (any, error) {
	id := query(ctx, "experiment_id")
	if id == "" {
		return nil, missingParam("experiment_id")
	}
	e, err := s.tracking.Experiment(ctx, id)
	if err != nil {
		return nil, err
	}
	return experimentResponse{newExperimentJSON(e)}, nil
}

func (s *Server) getExperimentByName(ctx *request) (any, error) {
	name := query(ctx, "experiment_name")
	if name == "" {
		return nil, missingParam("experiment_name")
	}
	e, err := s.tracking.ExperimentByName(ctx, name)
	if err != nil {
		return nil, err
	}
	return experimentResponse{newExperimentJSON(e)}, nil
}

func (s *Server) searchExperiments(ctx *request) (any, error) {
	var req struct {
		MaxResults *jsonInt64 `json:"max_results"`
		PageToken  string     `json:"page_token"`
		Filter     string     `json:"filter"`
		OrderBy    []string   `json:"order_by"`
		ViewType   string     `json:"view_type"`
	}
	if ctx.IsGet() {
		req.PageToken, req.Filter, req.OrderBy, req.ViewType = query(ctx, "page_token"), query(ctx, "filter"), queryAll(ctx, "order_by"), query(ctx, "view_type")
		if v := query(ctx, "max_results"); v != "" {
			var n jsonInt64
			if err := n.UnmarshalJSON([]byte(v)); err != nil {
				return nil, &requestError{"Invalid value " + strconv.Quote(v) + " for parameter 'max_results' supplied."}
			}
			req.MaxResults = &n
		}
	} else if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	// MLflow requires max_results here; its client always sends it.
	if req.MaxResults == nil || *req.MaxResults <= 0 {
		return nil, &requestError{"Invalid value 0 for parameter 'max_results' supplied. It must be a positive integer"}
	}
	exps, next, err := s.tracking.SearchExperiments(ctx, tracking.ExperimentQuery{Filter: req.Filter, ViewType: req.ViewType,
		MaxResults: int(*req.MaxResults), OrderBy: req.OrderBy, PageToken: req.PageToken})
	if err != nil {
		return nil, err
	}
	out := struct {
		Experiments   []experimentJSON `json:"experiments,omitempty"`
		NextPageToken string           `json:"next_page_token,omitempty"`
	}{NextPageToken: next}
	for _, e := range exps {
		out.Experiments = append(out.Experiments, newExperimentJSON(e))
	}
	return out, nil
}

func (s *Server) updateExperiment(ctx *request) (any, error) {
	var req struct {
		ExperimentID jsonID `json:"experiment_id"`
		NewName      string `json:"new_name"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.ExperimentID == "" {
		return nil, missingParam("experiment_id")
	}
	if req.NewName == "" {
		return nil, missingParam("new_name")
	}
	return empty{}, s.tracking.UpdateExperiment(ctx, string(req.ExperimentID), req.NewName)
}

// experimentIDRequest is the body of the endpoints that name an
// experiment and nothing else.
type experimentIDRequest struct {
	ExperimentID jsonID `json:"experiment_id"`
}

func (s *Server) deleteExperiment(ctx *request) (any, error) {
	var req experimentIDRequest
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.ExperimentID == "" {
		return nil, missingParam("experiment_id")
	}
	return empty{}, s.tracking.DeleteExperiment(ctx, string(req.ExperimentID))
}

func (s *Server) restoreExperiment(ctx *request) (any, error) {
	var req experimentIDRequest
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.ExperimentID == "" {
		return nil, missingParam("experiment_id")
	}
	return empty{}, s.tracking.RestoreExperiment(ctx, string(req.ExperimentID))
}

func (s *Server) setExperimentTag(ctx *request) (any, error) {
	var req struct {
		ExperimentID jsonID `json:"experiment_id"`
		Key          string `json:"key"`
		Value        string `json:"value"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.ExperimentID == "" {
		return nil, missingParam("experiment_id")
	}
	if req.Key == "" {
		return nil, missingParam("key")
	}
	return empty{}, s.tracking.SetExperimentTag(ctx, string(req.ExperimentID), tracking.Tag{Key: req.Key, Value: req.Value})
}
