package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/tracking"
)

// Tracking is what the MLflow-compatible API needs of the tracking store.
// The Store of package tracking implements it; another (PostgreSQL) could.
type Tracking interface {
	CreateExperiment(ctx context.Context, name, artifactLocation string, tags []tracking.Tag) (string, error)
	Experiment(ctx context.Context, id string) (*tracking.Experiment, error)
	ExperimentByName(ctx context.Context, name string) (*tracking.Experiment, error)
	SearchExperiments(ctx context.Context, q tracking.ExperimentQuery) ([]*tracking.Experiment, string, error)
	UpdateExperiment(ctx context.Context, id, newName string) error
	DeleteExperiment(ctx context.Context, id string) error
	RestoreExperiment(ctx context.Context, id string) error
	SetExperimentTag(ctx context.Context, id string, tag tracking.Tag) error

	CreateRun(ctx context.Context, spec tracking.RunSpec) (*tracking.Run, error)
	Run(ctx context.Context, id string) (*tracking.Run, error)
	UpdateRun(ctx context.Context, id string, u tracking.RunUpdate) (*tracking.RunInfo, error)
	DeleteRun(ctx context.Context, id string) error
	RestoreRun(ctx context.Context, id string) error
	SearchRuns(ctx context.Context, q tracking.RunQuery) ([]*tracking.Run, string, error)
	LogBatch(ctx context.Context, id string, metrics []tracking.Metric, params []tracking.Param, tags []tracking.Tag) error
	DeleteTag(ctx context.Context, id, key string) error
	MetricHistory(ctx context.Context, id, key string) ([]tracking.Metric, error)
}

// ArtifactStore is what the MLflow artifact proxy needs: files at
// slash-separated paths. The Artifacts of package tracking implements it.
type ArtifactStore interface {
	Put(path string, r io.Reader) (int64, error)
	Open(path string) (*os.File, error)
	List(path string) ([]tracking.ArtifactFile, error)
}

// The prefixes under which MLflow's API is served; the UI's ajax-api
// names the same endpoints.
const (
	mlflowPrefix     = "/api/2.0/mlflow/"
	mlflowAjaxPrefix = "/ajax-api/2.0/mlflow/"
	artifactsPrefix  = "/api/2.0/mlflow-artifacts/artifacts"
)

// mlflowEndpoint is one endpoint of MLflow's API: the methods it accepts
// and its handler, which decodes the request, calls the store and
// returns the response message (or an error, answered in MLflow's form).
type mlflowEndpoint struct {
	methods []string
	handle  func(s *Server, ctx *fasthttp.RequestCtx) (any, error)
}

// mlflowEndpoints maps each endpoint's path below /api/2.0/mlflow/ to it.
var mlflowEndpoints = map[string]mlflowEndpoint{
	"experiments/create":             {post, (*Server).createExperiment},
	"experiments/get":                {get, (*Server).getExperiment},
	"experiments/get-by-name":        {get, (*Server).getExperimentByName},
	"experiments/search":             {postOrGet, (*Server).searchExperiments},
	"experiments/update":             {post, (*Server).updateExperiment},
	"experiments/delete":             {post, (*Server).deleteExperiment},
	"experiments/restore":            {post, (*Server).restoreExperiment},
	"experiments/set-experiment-tag": {post, (*Server).setExperimentTag},
	"runs/create":                    {post, (*Server).createRun},
	"runs/get":                       {get, (*Server).getRun},
	"runs/update":                    {post, (*Server).updateRun},
	"runs/delete":                    {post, (*Server).deleteRun},
	"runs/restore":                   {post, (*Server).restoreRun},
	"runs/search":                    {post, (*Server).searchRuns},
	"runs/log-batch":                 {post, (*Server).logBatch},
	"runs/log-metric":                {post, (*Server).logMetric},
	"runs/log-parameter":             {post, (*Server).logParameter},
	"runs/set-tag":                   {post, (*Server).setTag},
	"runs/delete-tag":                {post, (*Server).deleteTag},
	"metrics/get-history":            {get, (*Server).getMetricHistory},

	"registered-models/create": {post, (*Server).createRegisteredModel},
	"registered-models/get":    {get, (*Server).getRegisteredModel},
	"registered-models/search": {get, (*Server).searchRegisteredModels},
	"registered-models/update": {patch, (*Server).updateRegisteredModel},
	"registered-models/delete": {del, (*Server).deleteRegisteredModel},
	"registered-models/alias":  {[]string{fasthttp.MethodPost, fasthttp.MethodGet, fasthttp.MethodDelete}, (*Server).alias},
	"model-versions/create":    {post, (*Server).createModelVersion},
	"model-versions/get":       {get, (*Server).getModelVersion},
	"model-versions/search":    {get, (*Server).searchModelVersions},
	"model-versions/update":    {patch, (*Server).updateModelVersion},
}

var (
	post      = []string{fasthttp.MethodPost}
	get       = []string{fasthttp.MethodGet}
	postOrGet = []string{fasthttp.MethodPost, fasthttp.MethodGet}
	patch     = []string{fasthttp.MethodPatch}
	del       = []string{fasthttp.MethodDelete}
)

// mlflowRequestError is a request MLflow would refuse with
// INVALID_PARAMETER_VALUE: a missing or mistyped field, a malformed body.
type mlflowRequestError struct{ msg string }

func (e *mlflowRequestError) Error() string { return e.msg }

func missingParam(name string) error {
	return &mlflowRequestError{fmt.Sprintf("Missing value for required parameter '%s'. See the API docs for more information about request parameters.", name)}
}

// errEndpointNotFound answers a path below the MLflow prefixes that names
// no endpoint.
var errEndpointNotFound = errors.New("no such MLflow endpoint")

// mlflowCode maps an error to MLflow's error code and HTTP status
// (mlflow/exceptions.py). It is the MLflow API's only such mapping.
func mlflowCode(err error) (string, int) {
	var re *mlflowRequestError
	switch {
	case errors.As(err, &re), errors.Is(err, tracking.ErrInvalid):
		return "INVALID_PARAMETER_VALUE", fasthttp.StatusBadRequest
	case errors.Is(err, tracking.ErrExists):
		return "RESOURCE_ALREADY_EXISTS", fasthttp.StatusBadRequest
	case errors.Is(err, tracking.ErrNotFound):
		return "RESOURCE_DOES_NOT_EXIST", fasthttp.StatusNotFound
	case errors.Is(err, errEndpointNotFound):
		return "ENDPOINT_NOT_FOUND", fasthttp.StatusNotFound
	case errors.Is(err, errNotConfigured):
		return "TEMPORARILY_UNAVAILABLE", fasthttp.StatusServiceUnavailable
	}
	return "INTERNAL_ERROR", fasthttp.StatusInternalServerError
}

// errNotConfigured answers MLflow requests to a server without tracking.
var errNotConfigured = errors.New("this server has no tracking store (serve with a --data-dir)")

// writeMLflowError answers err as MLflow does: {"error_code", "message"}.
func writeMLflowError(ctx *fasthttp.RequestCtx, err error) {
	code, status := mlflowCode(err)
	msg := err.Error()
	for _, sentinel := range []error{tracking.ErrInvalid, tracking.ErrExists, tracking.ErrNotFound} {
		msg = strings.TrimPrefix(msg, sentinel.Error()+": ")
	}
	body, _ := json.Marshal(map[string]string{"error_code": code, "message": msg})
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentType(contentTypeJSON)
	ctx.SetBody(body)
}

// mlflow serves a request below /api/2.0/mlflow/ or /ajax-api/2.0/mlflow/.
func (s *Server) mlflow(ctx *fasthttp.RequestCtx) {
	p := string(ctx.Path())
	name, ok := strings.CutPrefix(p, mlflowPrefix)
	if !ok {
		name, _ = strings.CutPrefix(p, mlflowAjaxPrefix)
	}
	ep, ok := mlflowEndpoints[name]
	if !ok {
		writeMLflowError(ctx, fmt.Errorf("%w: %s %s", errEndpointNotFound, ctx.Method(), p))
		return
	}
	method := string(ctx.Method())
	allowed := false
	for _, m := range ep.methods {
		allowed = allowed || m == method
	}
	if !allowed {
		ctx.Response.Header.Set("Allow", strings.Join(ep.methods, ", "))
		body, _ := json.Marshal(map[string]string{"error_code": "BAD_REQUEST",
			"message": fmt.Sprintf("method %s not allowed on %s; use %s", method, p, strings.Join(ep.methods, " or "))})
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		ctx.SetContentType(contentTypeJSON)
		ctx.SetBody(body)
		return
	}
	if s.tracking == nil || s.registry == nil && strings.HasPrefix(name, "registered-models/") || s.registry == nil && strings.HasPrefix(name, "model-versions/") {
		writeMLflowError(ctx, errNotConfigured)
		return
	}
	resp, err := ep.handle(s, ctx)
	if err != nil {
		writeMLflowError(ctx, err)
		return
	}
	body, err := json.Marshal(resp)
	if err != nil {
		writeMLflowError(ctx, fmt.Errorf("encode response: %w", err))
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType(contentTypeJSON)
	ctx.SetBody(body)
}

// decodeBody decodes a POST request's JSON body into req, as MLflow does:
// unknown fields are ignored; the Content-Type must be application/json.
func decodeMLflowBody(ctx *fasthttp.RequestCtx, req any) error {
	if ctx.IsPost() || ctx.IsPut() { // MLflow checks the content type of these only
		ct := string(ctx.Request.Header.ContentType())
		if ct == "" {
			return &mlflowRequestError{"Bad Request. Content-Type header is missing."}
		}
		if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(mt)) != "application/json" {
			return &mlflowRequestError{fmt.Sprintf("Bad Request. Content-Type must be one of ['application/json'], not %q.", ct)}
		}
	}
	body := bytes.TrimSpace(ctx.PostBody())
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, req); err != nil {
		return &mlflowRequestError{"Malformed request body: " + err.Error()}
	}
	return nil
}

// query returns a GET request's parameter.
func query(ctx *fasthttp.RequestCtx, name string) string {
	return string(ctx.QueryArgs().Peek(name))
}

// queryAll returns every value of a repeated GET parameter.
func queryAll(ctx *fasthttp.RequestCtx, name string) []string {
	var out []string
	for _, v := range ctx.QueryArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	return out
}

// empty is the response of endpoints that answer nothing but success.
type empty struct{}
