package mlflow

import (
	"fmt"

	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/tracking"
)

type runResponse struct {
	Run runJSON `json:"run"`
}

func (s *Server) createRun(ctx *request) (any, error) {
	var req struct {
		ExperimentID jsonID         `json:"experiment_id"`
		UserID       string         `json:"user_id"`
		RunName      string         `json:"run_name"`
		StartTime    jsonInt64      `json:"start_time"`
		Tags         []keyValueJSON `json:"tags"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	for _, t := range req.Tags {
		if t.Key == tracking.RunNameTag && req.RunName != "" && t.Value != req.RunName {
			return nil, &requestError{fmt.Sprintf("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='%s', mlflow.runName='%s').", req.RunName, t.Value)}
		}
	}
	r, err := s.tracking.CreateRun(ctx, tracking.RunSpec{ExperimentID: string(req.ExperimentID), UserID: req.UserID,
		RunName: req.RunName, StartTime: int64(req.StartTime), Tags: tagsOf(req.Tags)})
	if err != nil {
		return nil, err
	}
	return runResponse{newRunJSON(r)}, nil
}

// runID returns a request's run_id, or its legacy run_uuid.
func runID(id, uuid string) (string, error) {
	if id == "" {
		id = uuid
	}
	if id == "" {
		return "", missingParam("run_id")
	}
	return id, nil
}

func (s *Server) getRun(ctx *request) (any, error) {
	id, err := runID(query(ctx, "run_id"), query(ctx, "run_uuid"))
	if err != nil {
		return nil, err
	}
	r, err := s.tracking.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	return runResponse{newRunJSON(r)}, nil
}

func (s *Server) updateRun(ctx *request) (any, error) {
	var req struct {
		RunID   string    `json:"run_id"`
		RunUUID string    `json:"run_uuid"`
		Status  string    `json:"status"`
		EndTime jsonInt64 `json:"end_time"`
		RunName string    `json:"run_name"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	id, err := runID(req.RunID, req.RunUUID)
	if err != nil {
		return nil, err
	}
	info, err := s.tracking.UpdateRun(ctx, id, tracking.RunUpdate{Status: req.Status, EndTime: int64(req.EndTime), RunName: req.RunName})
	if err != nil {
		return nil, err
	}
	return struct {
		RunInfo runInfoJSON `json:"run_info"`
	}{newRunInfoJSON(info)}, nil
}

// runIDRequest is the body of the endpoints that name a run and nothing
// else.
type runIDRequest struct {
	RunID string `json:"run_id"`
}

func (s *Server) deleteRun(ctx *request) (any, error) {
	var req runIDRequest
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.RunID == "" {
		return nil, missingParam("run_id")
	}
	return empty{}, s.tracking.DeleteRun(ctx, req.RunID)
}

func (s *Server) restoreRun(ctx *request) (any, error) {
	var req runIDRequest
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.RunID == "" {
		return nil, missingParam("run_id")
	}
	return empty{}, s.tracking.RestoreRun(ctx, req.RunID)
}

func (s *Server) searchRuns(ctx *request) (any, error) {
	var req struct {
		ExperimentIDs []jsonID   `json:"experiment_ids"`
		Filter        string     `json:"filter"`
		RunViewType   string     `json:"run_view_type"`
		MaxResults    *jsonInt64 `json:"max_results"`
		OrderBy       []string   `json:"order_by"`
		PageToken     string     `json:"page_token"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	q := tracking.RunQuery{Filter: req.Filter, ViewType: req.RunViewType, OrderBy: req.OrderBy, PageToken: req.PageToken}
	for _, id := range req.ExperimentIDs {
		q.ExperimentIDs = append(q.ExperimentIDs, string(id))
	}
	if len(q.ExperimentIDs) == 0 {
		return nil, missingParam("experiment_ids")
	}
	if req.MaxResults != nil {
		if *req.MaxResults <= 0 {
			return nil, &requestError{fmt.Sprintf("Invalid value %d for parameter 'max_results' supplied. It must be a positive integer", *req.MaxResults)}
		}
		q.MaxResults = int(*req.MaxResults)
	}
	runs, next, err := s.tracking.SearchRuns(ctx, q)
	if err != nil {
		return nil, err
	}
	out := struct {
		Runs          []runJSON `json:"runs,omitempty"`
		NextPageToken string    `json:"next_page_token,omitempty"`
	}{NextPageToken: next}
	for _, r := range runs {
		out.Runs = append(out.Runs, newRunJSON(r))
	}
	return out, nil
}

func (s *Server) logBatch(ctx *request) (any, error) {
	var req struct {
		RunID   string         `json:"run_id"`
		Metrics []metricFields `json:"metrics"`
		Params  []keyValueJSON `json:"params"`
		Tags    []keyValueJSON `json:"tags"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.RunID == "" {
		return nil, missingParam("run_id")
	}
	metrics := make([]tracking.Metric, len(req.Metrics))
	for i, m := range req.Metrics {
		mm, err := m.metric(fmt.Sprintf("metrics[%d].", i))
		if err != nil {
			return nil, err
		}
		metrics[i] = mm
	}
	params := make([]tracking.Param, len(req.Params))
	for i, p := range req.Params {
		params[i] = tracking.Param{Key: p.Key, Value: p.Value}
	}
	return empty{}, s.tracking.LogBatch(ctx, req.RunID, metrics, params, tagsOf(req.Tags))
}

// metricFields is a metric as a request carries it, its required fields
// as pointers so that a missing one can be told from a zero.
type metricFields struct {
	Key       string          `json:"key"`
	Value     *httpapi.Double `json:"value"`
	Timestamp *jsonInt64      `json:"timestamp"`
	Step      jsonInt64       `json:"step"`
}

// metric checks the required fields; prefix names the field's place in
// the request for the error.
func (m metricFields) metric(prefix string) (tracking.Metric, error) {
	switch {
	case m.Key == "":
		return tracking.Metric{}, missingParam(prefix + "key")
	case m.Value == nil:
		return tracking.Metric{}, missingParam(prefix + "value")
	case m.Timestamp == nil:
		return tracking.Metric{}, missingParam(prefix + "timestamp")
	}
	return tracking.Metric{Key: m.Key, Value: float64(*m.Value), Timestamp: int64(*m.Timestamp), Step: int64(m.Step)}, nil
}

func (s *Server) logMetric(ctx *request) (any, error) {
	var req struct {
		RunID   string `json:"run_id"`
		RunUUID string `json:"run_uuid"`
		metricFields
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	id, err := runID(req.RunID, req.RunUUID)
	if err != nil {
		return nil, err
	}
	m, err := req.metricFields.metric("")
	if err != nil {
		return nil, err
	}
	return empty{}, s.tracking.LogBatch(ctx, id, []tracking.Metric{m}, nil, nil)
}

// keyValueRequest is the body of log-parameter and set-tag.
type keyValueRequest struct {
	RunID   string `json:"run_id"`
	RunUUID string `json:"run_uuid"`
	Key     string `json:"key"`
	Value   string `json:"value"`
}

func (s *Server) decodeKeyValue(ctx *request) (id string, req keyValueRequest, err error) {
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return "", req, err
	}
	if id, err = runID(req.RunID, req.RunUUID); err != nil {
		return "", req, err
	}
	if req.Key == "" {
		return "", req, missingParam("key")
	}
	return id, req, nil
}

func (s *Server) logParameter(ctx *request) (any, error) {
	id, req, err := s.decodeKeyValue(ctx)
	if err != nil {
		return nil, err
	}
	return empty{}, s.tracking.LogBatch(ctx, id, nil, []tracking.Param{{Key: req.Key, Value: req.Value}}, nil)
}

func (s *Server) setTag(ctx *request) (any, error) {
	id, req, err := s.decodeKeyValue(ctx)
	if err != nil {
		return nil, err
	}
	return empty{}, s.tracking.LogBatch(ctx, id, nil, nil, []tracking.Tag{{Key: req.Key, Value: req.Value}})
}

func (s *Server) deleteTag(ctx *request) (any, error) {
	var req struct {
		RunID string `json:"run_id"`
		Key   string `json:"key"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.RunID == "" {
		return nil, missingParam("run_id")
	}
	if req.Key == "" {
		return nil, missingParam("key")
	}
	return empty{}, s.tracking.DeleteTag(ctx, req.RunID, req.Key)
}

func (s *Server) getMetricHistory(ctx *request) (any, error) {
	id, err := runID(query(ctx, "run_id"), query(ctx, "run_uuid"))
	if err != nil {
		return nil, err
	}
	key := query(ctx, "metric_key")
	if key == "" {
		return nil, missingParam("metric_key")
	}
	hist, err := s.tracking.MetricHistory(ctx, id, key)
	if err != nil {
		return nil, err
	}
	out := struct {
		Metrics []metricJSON `json:"metrics,omitempty"`
	}{}
	for _, m := range hist {
		out.Metrics = append(out.Metrics, newMetricJSON(m))
	}
	return out, nil
}
