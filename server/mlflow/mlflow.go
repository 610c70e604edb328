package mlflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/errtext"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
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
	LogInputs(ctx context.Context, id string, inputs []tracking.DatasetInput) error
	LogModel(ctx context.Context, id string, model json.RawMessage) error
}

// ArtifactStore is what the MLflow artifact proxy needs: files at
// slash-separated paths. The Artifacts of package tracking implements it.
// Put is handed an upload's body as it arrives and should write it as it
// reads it, not hold it in memory; when r fails, it must keep nothing.
type ArtifactStore interface {
	Put(path string, r io.Reader) (int64, error)
	Open(path string) (*os.File, error)
	List(path string) ([]tracking.ArtifactFile, error)
}

// The prefixes under which MLflow's API is served; the UI's ajax-api
// names the same endpoints.
const (
	apiPrefix       = "/api/2.0/mlflow/"
	ajaxPrefix      = "/ajax-api/2.0/mlflow/"
	artifactsPrefix = "/api/2.0/mlflow-artifacts/artifacts"
)

// Operations carries out the registry's changes to what serves, checked,
// applied and audited as every other caller's: *ops.Service implements
// it.
type Operations interface {
	// Publish adds a version, with its MLflow record, lineage and audit
	// entry, as one operation.
	Publish(ctx context.Context, model string, onnx []byte, spec ops.PublishSpec) (int, error)
	// SetAlias and DeleteAlias move an alias; champion and challenger
	// move the rollout first.
	SetAlias(ctx context.Context, model, alias string, version int, actor string) error
	DeleteAlias(ctx context.Context, model, alias string) error
	// DeleteModel removes a model from the registry and forgets its
	// registry records.
	DeleteModel(ctx context.Context, model, actor, reason string) error
	// TransitionStage moves a version to an MLflow stage, changing what
	// serves as the stage means, and returns the versions it archived.
	TransitionStage(ctx context.Context, model string, t ops.Transition) ([]int, error)
}

// Config configures a Server. A nil store answers the endpoints that
// need it with 503 TEMPORARILY_UNAVAILABLE.
type Config struct {
	// Tracking serves the tracking API; nil answers every MLflow endpoint
	// with 503.
	Tracking Tracking
	// Registry serves the model registry over the registry directory
	// RegistryDir; nil answers its endpoints with 503. PublishEngine
	// configures the session that checks a model before it is published.
	Registry      ModelRegistry
	RegistryDir   string
	PublishEngine engine.Config
	// Artifacts serves the artifact proxy; nil answers it with 503.
	Artifacts ArtifactStore
	// MaxArtifactBytes is the largest file an upload may store; a longer
	// upload gets 413 RESOURCE_EXHAUSTED and leaves nothing behind. 0
	// means DefaultMaxArtifactBytes. UploadReadTimeout, when positive,
	// bounds each wait for more of an upload's body, so that an upload
	// may take as long as it needs while its bytes keep coming; 0 leaves
	// the server's deadline for the whole request.
	MaxArtifactBytes  int64
	UploadReadTimeout time.Duration
	// AllowSourceRoots are the directories under which a
	// model-versions/create may name a local source (an absolute path or
	// a file:// URI); each is read through an os.Root, so that neither
	// ".." nor a symlink leads out of it. Empty refuses every local
	// source. A relative root allows nothing.
	AllowSourceRoots []string
	// MaxModelBytes is the largest model a model-versions/create reads,
	// from a local source or the artifact store; a larger one is refused
	// before it is read, or once it passes the limit while it is read. 0
	// means modelstore.DefaultMaxModelBytes.
	MaxModelBytes int64
	// Ops publishes versions, moves aliases and stages and deletes
	// models; nil answers those endpoints with 503.
	Ops Operations
	// Models are the live models, read for each version's status and
	// serving tags; nil reports every version from the gate's recorded
	// verdicts alone, with no serving tags.
	Models Models
	// Logger receives the API's warnings. Nil means slog.Default().
	Logger *slog.Logger
}

// Server serves MLflow's REST API under /api/2.0/mlflow/ (and the UI's
// /ajax-api/2.0/mlflow/) and its artifact proxy under
// /api/2.0/mlflow-artifacts/artifacts. It is safe for concurrent use.
type Server struct {
	tracking      Tracking
	registry      ModelRegistry
	artifactStore ArtifactStore
	cfg           Config
	log           *slog.Logger
}

// New returns a Server over cfg's stores.
func New(cfg Config) *Server {
	s := &Server{tracking: cfg.Tracking, registry: cfg.Registry, artifactStore: cfg.Artifacts, cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// endpoint is one line of MLflow's endpoint table: a method, the path
// below the API's prefixes, the access class and the handler, which
// decodes the request, calls the store and returns the response message
// (or an error, answered in MLflow's form). Its OpenAPI operation is
// generated from the line (operation).
type endpoint struct {
	method string
	name   string
	access httpapi.Access
	handle func(s *Server, ctx *request) (any, error)
}

// endpoints is MLflow's endpoint table.
var endpoints = []endpoint{
	{post, "experiments/create", write, (*Server).createExperiment},
	{get, "experiments/get", read, (*Server).getExperiment},
	{get, "experiments/get-by-name", read, (*Server).getExperimentByName},
	{post, "experiments/search", read, (*Server).searchExperiments},
	{get, "experiments/search", read, (*Server).searchExperiments},
	{post, "experiments/update", write, (*Server).updateExperiment},
	{post, "experiments/delete", write, (*Server).deleteExperiment},
	{post, "experiments/restore", write, (*Server).restoreExperiment},
	{post, "experiments/set-experiment-tag", write, (*Server).setExperimentTag},
	{post, "runs/create", write, (*Server).createRun},
	{get, "runs/get", read, (*Server).getRun},
	{post, "runs/update", write, (*Server).updateRun},
	{post, "runs/delete", write, (*Server).deleteRun},
	{post, "runs/restore", write, (*Server).restoreRun},
	{post, "runs/search", read, (*Server).searchRuns},
	{post, "runs/log-batch", write, (*Server).logBatch},
	{post, "runs/log-metric", write, (*Server).logMetric},
	{post, "runs/log-parameter", write, (*Server).logParameter},
	{post, "runs/set-tag", write, (*Server).setTag},
	{post, "runs/delete-tag", write, (*Server).deleteTag},
	{post, "runs/log-inputs", write, (*Server).logInputs},
	{post, "runs/log-model", write, (*Server).logModel},
	{get, "metrics/get-history", read, (*Server).getMetricHistory},

	{post, "registered-models/create", write, (*Server).createRegisteredModel},
	{get, "registered-models/get", read, (*Server).getRegisteredModel},
	{get, "registered-models/search", read, (*Server).searchRegisteredModels},
	{patch, "registered-models/update", write, (*Server).updateRegisteredModel},
	{del, "registered-models/delete", write, (*Server).deleteRegisteredModel},
	{post, "registered-models/alias", write, (*Server).alias},
	{get, "registered-models/alias", read, (*Server).alias},
	{del, "registered-models/alias", write, (*Server).alias},
	{post, "registered-models/set-tag", write, (*Server).setRegisteredModelTag},
	{del, "registered-models/delete-tag", write, (*Server).deleteRegisteredModelTag},
	{post, "registered-models/get-latest-versions", read, (*Server).getLatestVersions},
	{get, "registered-models/get-latest-versions", read, (*Server).getLatestVersions},
	{post, "model-versions/create", write, (*Server).createModelVersion},
	{get, "model-versions/get", read, (*Server).getModelVersion},
	{get, "model-versions/search", read, (*Server).searchModelVersions},
	{patch, "model-versions/update", write, (*Server).updateModelVersion},
	{post, "model-versions/set-tag", write, (*Server).setModelVersionTag},
	{del, "model-versions/delete-tag", write, (*Server).deleteModelVersionTag},
	{post, "model-versions/transition-stage", write, (*Server).transitionStage},
	{get, "model-versions/get-download-uri", read, (*Server).getDownloadURI},
	{get, "artifacts/list", read, (*Server).listRunArtifacts},
}

const (
	post, get, patch, del = fasthttp.MethodPost, fasthttp.MethodGet, fasthttp.MethodPatch, fasthttp.MethodDelete
	read, write           = httpapi.Read, httpapi.Write
)

// API returns the MLflow API's endpoint table, each line of endpoints
// under both prefixes (only the /api/2.0/mlflow/ one documented), then
// the artifact proxy's.
func (s *Server) API() *httpapi.API {
	a := &httpapi.API{
		Prefixes:    []string{apiPrefix, ajaxPrefix, artifactsPrefix},
		RawPrefixes: []string{artifactsPrefix},
		Unmatched:   s.unmatched,
		Deny:        writeError,
		Tags:        tags,
		Components:  addComponents,
	}
	for _, e := range endpoints {
		h := func(ctx *fasthttp.RequestCtx, _ httpapi.Params) { s.serve(ctx, e) }
		a.Endpoints = append(a.Endpoints,
			httpapi.Endpoint{Method: e.method, Path: apiPrefix + e.name, Access: e.access, Handler: h, Op: operation(e)},
			httpapi.Endpoint{Method: e.method, Path: ajaxPrefix + e.name, Access: e.access, Handler: h})
	}
	artifacts := func(ctx *fasthttp.RequestCtx, _ httpapi.Params) { s.artifacts(ctx) }
	a.Endpoints = append(a.Endpoints,
		httpapi.Endpoint{Method: get, Path: artifactsPrefix, Access: read, Handler: artifacts, Op: listArtifactsOp()},
		httpapi.Endpoint{Method: get, Path: artifactsPrefix + "/{path...}", Access: read, Handler: artifacts, Op: getArtifactOp()},
		httpapi.Endpoint{Method: fasthttp.MethodPut, Path: artifactsPrefix + "/{path...}", Access: write, Handler: artifacts, Op: putArtifactOp(), StreamBody: true},
	)
	return a
}

// unmatched answers a request under the API's prefixes that matched no
// endpoint or not its method: the artifact proxy judges its own paths
// (including those that dot segments normalised out of its prefix),
// MLflow's API answers in MLflow's form.
func (s *Server) unmatched(ctx *fasthttp.RequestCtx, err error) {
	if bytes.HasPrefix(ctx.Path(), []byte(artifactsPrefix)) || bytes.HasPrefix(ctx.URI().PathOriginal(), []byte(artifactsPrefix)) {
		s.artifacts(ctx)
		return
	}
	if me, ok := errors.AsType[*httpapi.MethodError](err); ok {
		writeError(ctx, me)
		return
	}
	writeError(ctx, fmt.Errorf("%w: %s %s", errEndpointNotFound, ctx.Method(), ctx.Path()))
}

// requestError is a request MLflow would refuse with
// INVALID_PARAMETER_VALUE: a missing or mistyped field, a malformed body.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func missingParam(name string) error {
	return &requestError{fmt.Sprintf("Missing value for required parameter '%s'. See the API docs for more information about request parameters.", name)}
}

// code maps an error to MLflow's error code and HTTP status
// (mlflow/exceptions.py), as MLflow's clients expect them; the server's
// own mapping (httpapi.StatusOf) answers nothing of this API.
func code(err error) (string, int) {
	var re *requestError
	var me *httpapi.MethodError
	switch {
	case errors.As(err, &re), errors.Is(err, tracking.ErrInvalid):
		return "INVALID_PARAMETER_VALUE", fasthttp.StatusBadRequest
	case errors.As(err, &me):
		return "BAD_REQUEST", fasthttp.StatusMethodNotAllowed
	case errors.Is(err, tracking.ErrExists):
		return "RESOURCE_ALREADY_EXISTS", fasthttp.StatusBadRequest
	case errors.Is(err, tracking.ErrNotFound):
		return "RESOURCE_DOES_NOT_EXIST", fasthttp.StatusNotFound
	case errors.Is(err, errEndpointNotFound):
		return "ENDPOINT_NOT_FOUND", fasthttp.StatusNotFound
	case errors.Is(err, access.ErrUnauthenticated):
		return "UNAUTHENTICATED", fasthttp.StatusUnauthorized
	case errors.Is(err, access.ErrForbidden), errors.Is(err, errRegistryReadOnly):
		return "PERMISSION_DENIED", fasthttp.StatusForbidden
	case errors.Is(err, httpapi.ErrUnsupportedMediaType):
		return "BAD_REQUEST", fasthttp.StatusUnsupportedMediaType
	case errors.Is(err, errArtifactTooLarge):
		return "RESOURCE_EXHAUSTED", fasthttp.StatusRequestEntityTooLarge
	case errors.Is(err, tracking.ErrNoSpace):
		return "RESOURCE_EXHAUSTED", fasthttp.StatusInsufficientStorage
	case errors.Is(err, errNotConfigured), errors.Is(err, modelstore.ErrRegistryWrite):
		// A registry that cannot be written (a full disk) may take the
		// same request later: MLflow's clients retry a 503.
		return "TEMPORARILY_UNAVAILABLE", fasthttp.StatusServiceUnavailable
	}
	return "INTERNAL_ERROR", fasthttp.StatusInternalServerError
}

// writeError answers err as MLflow does: {"error_code", "message"}; a
// *httpapi.MethodError with its Allow header.
func writeError(ctx *fasthttp.RequestCtx, err error) {
	code, status := code(err)
	msg := errtext.Text(err) // no package prefixes, wherever a sentinel sits
	for _, sentinel := range []error{tracking.ErrInvalid, tracking.ErrExists, tracking.ErrNotFound} {
		msg = strings.TrimPrefix(msg, errtext.Text(sentinel)+": ") // error_code says it
	}
	body, _ := json.Marshal(map[string]string{"error_code": code, "message": msg})
	ctx.Response.Reset()
	if me, ok := errors.AsType[*httpapi.MethodError](err); ok {
		ctx.Response.Header.Set("Allow", me.Allow())
	}
	if status == fasthttp.StatusUnauthorized {
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="switchyard"`)
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType(httpapi.ContentTypeJSON)
	ctx.SetBody(body)
}

// serve serves a request of endpoint e.
func (s *Server) serve(ctx *fasthttp.RequestCtx, e endpoint) {
	registry := strings.HasPrefix(e.name, "registered-models/") || strings.HasPrefix(e.name, "model-versions/")
	if s.tracking == nil || s.registry == nil && registry {
		writeError(ctx, errNotConfigured)
		return
	}
	req, cancel := newRequest(ctx)
	defer cancel()
	resp, err := e.handle(s, req)
	if err != nil {
		writeError(ctx, err)
		return
	}
	body, err := json.Marshal(resp)
	if err != nil {
		writeError(ctx, fmt.Errorf("encode response: %w", err))
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType(httpapi.ContentTypeJSON)
	ctx.SetBody(body)
}

// decodeBody decodes a POST request's JSON body into req, as MLflow does:
// unknown fields are ignored; the Content-Type must be application/json.
func decodeMLflowBody(ctx *fasthttp.RequestCtx, req any) error {
	if ctx.IsPost() || ctx.IsPut() { // MLflow checks the content type of these only
		ct := string(ctx.Request.Header.ContentType())
		if ct == "" {
			return &requestError{"Bad Request. Content-Type header is missing."}
		}
		if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(mt)) != "application/json" {
			return &requestError{fmt.Sprintf("Bad Request. Content-Type must be one of ['application/json'], not %q.", ct)}
		}
	}
	body := bytes.TrimSpace(ctx.PostBody())
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, req); err != nil {
		return &requestError{"Malformed request body: " + err.Error()}
	}
	return nil
}

// queryArgs is a request whose query parameters can be read: a
// *fasthttp.RequestCtx or a *request.
type queryArgs interface{ QueryArgs() *fasthttp.Args }

// query returns a GET request's parameter.
func query(ctx queryArgs, name string) string {
	return string(ctx.QueryArgs().Peek(name))
}

// queryAll returns every value of a repeated GET parameter.
func queryAll(ctx queryArgs, name string) []string {
	var out []string
	for _, v := range ctx.QueryArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	return out
}

// empty is the response of endpoints that answer nothing but success.
type empty struct{}
