package server

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// serverOpenAPI serves GET /openapi.json: the OpenAPI document of every
// endpoint the server serves. Each model's fields are in its own document,
// GET /v1/models/{m}/openapi.json.
func (s *Server) serverOpenAPI(ctx *fasthttp.RequestCtx) {
	body, err := serverDocumentJSON()
	if err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetContentType(contentTypeJSON)
	ctx.Response.SetBodyRaw(body) // shared and never modified
}

// serverDocumentJSON returns the server's document as JSON. It never
// changes, so it is built once.
var serverDocumentJSON = sync.OnceValues(func() ([]byte, error) {
	b, err := json.Marshal(serverDocument())
	if err != nil {
		return nil, fmt.Errorf("encode the server's OpenAPI document: %w", err)
	}
	return b, nil
})

// The tags of the server's document, one per part of the API.
const (
	tagV2         = "V2 inference"
	tagRepository = "V2 model repository"
	tagRecords    = "Records"
	tagDocs       = "Documentation"
	tagAdmin      = "Operations"
	tagMLflow     = "MLflow tracking"
	tagArtifacts  = "MLflow artifacts"
	tagProbes     = "Probes and metrics"
)

// errorStatus gives the status of each error response in components.
var errorStatus = map[string]string{
	"BadRequest": "400", "Unauthorized": "401", "NotFound": "404", "TooLarge": "413",
	"ValidationFailed": "422", "Unavailable": "503", "Timeout": "504",
}

// serverDocument returns the OpenAPI document of the whole server.
func serverDocument() *oaDoc {
	instance := &oaSchema{Type: oaObject, Description: "One record: its fields are the model's features. " +
		"GET /v1/models/{model}/openapi.json lists them, with their types, ranges, allowed values and defaults."}
	classified := object("A classifier's prediction for one instance.", []string{"label", "probabilities"},
		prop("label", str("The most probable class.")),
		prop("probabilities", &oaSchema{Type: oaObject, Description: "The probability of each class, by class name.",
			AdditionalProperties: &oaSchema{Type: oaNumber, Minimum: bound(0), Maximum: bound(1)}}))
	prediction := &oaSchema{OneOf: []*oaSchema{classified, regressionSchema()}}

	doc := &oaDoc{
		OpenAPI: openAPIVersion,
		Info: oaInfo{Title: "switchyard", Version: Version, Description: "An ONNX inference server: the Open Inference " +
			"Protocol (V2), a records API over each model's feature schema, the operations API and an MLflow-compatible " +
			"tracking API. Each model's records API, with its fields, is described at /v1/models/{model}/openapi.json; " +
			"/docs renders these documents and tries requests."},
		Tags: []oaTag{
			{tagV2, "The Open Inference Protocol (KServe V2), with the binary tensor data extension."},
			{tagRepository, "The model repository extension of the V2 protocol."},
			{tagRecords, "Named features as JSON, validated against the model's feature schema."},
			{tagDocs, "These documents and the page that renders them."},
			{tagAdmin, "Rollouts, the audit trail and training runs. With an admin token configured, every request needs Authorization: Bearer TOKEN."},
			{tagMLflow, "A subset of MLflow's REST API, so that an MLflow client can log to switchyard. The same endpoints answer under /ajax-api/2.0/mlflow/."},
			{tagArtifacts, "MLflow's artifact proxy."},
			{tagProbes, "For load balancers and Prometheus."},
		},
		Components: recordsComponents(instance, prediction, nil),
	}
	c := &doc.Components
	c.Responses["Unauthorized"] = errorResponse("The operations API needs the admin token: Authorization: Bearer TOKEN.")
	c.Responses["MLflowError"] = &oaResponse{Description: "MLflow's error form: 400 INVALID_PARAMETER_VALUE or RESOURCE_ALREADY_EXISTS, " +
		"404 RESOURCE_DOES_NOT_EXIST or ENDPOINT_NOT_FOUND, 503 TEMPORARILY_UNAVAILABLE on a server without a tracking store.",
		Content: map[string]oaMedia{contentTypeJSON: {Schema: ref("MLflowError")}}}
	c.SecuritySchemes = map[string]oaSecurityScheme{"adminToken": {Type: "http", Scheme: "bearer",
		Description: "The token the server was started with (--admin-token); without one the operations API is open."}}
	addV2Schemas(c)

	addV2Paths(&doc.Paths)
	addRecordsPaths(&doc.Paths)
	addAdminPaths(&doc.Paths)
	addMLflowPaths(&doc.Paths, c)
	addProbePaths(&doc.Paths)
	return doc
}

// Path parameters.
var (
	modelParam = oaParameter{Name: "model", In: "path", Required: true, Description: "The model's name.",
		Schema: &oaSchema{Type: oaString}}
	runParam = oaParameter{Name: "run_id", In: "path", Required: true, Description: "The tracking run's id.",
		Schema: &oaSchema{Type: oaString}}
)

// op returns an operation that answers ok as its 200 and the named error
// responses of components.
func op(tag, id, summary string, ok *oaResponse, errs ...string) *oaOperation {
	o := &oaOperation{Tags: []string{tag}, OperationID: id, Summary: summary, Responses: map[string]*oaResponse{"200": ok}}
	for _, e := range errs {
		o.Responses[errorStatus[e]] = refResponse(e)
	}
	return o
}

// withParams sets o's parameters and returns o.
func (o *oaOperation) withParams(ps ...oaParameter) *oaOperation {
	o.Parameters = ps
	return o
}

// withBody sets o's request body to JSON of schema s and returns o.
func (o *oaOperation) withBody(s *oaSchema, required bool) *oaOperation {
	o.RequestBody = &oaRequestBody{Required: required, Content: map[string]oaMedia{contentTypeJSON: {Schema: s}}}
	return o
}

// jsonOK returns a 200 response with a JSON body of schema s.
func jsonOK(desc string, s *oaSchema) *oaResponse {
	return &oaResponse{Description: desc, Content: map[string]oaMedia{contentTypeJSON: {Schema: s}}}
}

// textOK returns a 200 response with a plain-text body.
func textOK(desc string) *oaResponse {
	return &oaResponse{Description: desc, Content: map[string]oaMedia{"text/plain": {Schema: &oaSchema{Type: oaString}}}}
}

// object returns an object schema with the given properties, in order,
// of which required are required.
func object(desc string, required []string, props ...oaMember[*oaSchema]) *oaSchema {
	return &oaSchema{Type: oaObject, Description: desc, Required: required, Properties: props}
}

// prop is a property of object.
func prop(name string, s *oaSchema) oaMember[*oaSchema] { return oaMember[*oaSchema]{name, s} }

func str(desc string) *oaSchema { return &oaSchema{Type: oaString, Description: desc} }

func arrayOf(items *oaSchema) *oaSchema { return &oaSchema{Type: oaArray, Items: items} }

// addV2Schemas adds the schemas of the V2 API to c.
func addV2Schemas(c *oaComponents) {
	var dtypes []string
	for d := engine.FP32; d <= engine.BOOL; d++ {
		dtypes = append(dtypes, d.String())
	}
	datatype := &oaSchema{Type: oaString, Enum: dtypes}
	var states []string
	for _, st := range modelstore.States {
		states = append(states, st.String())
	}
	shape := &oaSchema{Type: oaArray, Items: &oaSchema{Type: oaInteger, Minimum: bound(-1)},
		Description: "The dimensions; -1 is a dimension of any size in metadata."}
	data := &oaSchema{Type: oaArray, Description: "The elements in row-major order, flat or nested as the shape: " +
		"numbers, or true and false for BOOL. Absent when the tensor travels as binary data."}
	binarySize := &oaSchema{Type: oaInteger, Minimum: bound(0),
		Description: "The tensor's size in bytes in the binary data that follows the JSON."}
	tensorMeta := object("", []string{"name", "datatype", "shape"},
		prop("name", str("")), prop("datatype", datatype), prop("shape", shape))

	c.Schemas.add("ServerMetadata", object("", []string{"name", "version", "extensions"},
		prop("name", str("")), prop("version", str("")), prop("extensions", arrayOf(str("")))))
	c.Schemas.add("TensorMetadata", tensorMeta)
	c.Schemas.add("ModelMetadata", object("", []string{"name", "versions", "platform", "inputs", "outputs"},
		prop("name", str("")), prop("versions", &oaSchema{Type: oaArray, Items: str(""), Description: "The versions that are ready."}),
		prop("platform", str("")), prop("inputs", arrayOf(ref("TensorMetadata"))), prop("outputs", arrayOf(ref("TensorMetadata")))))
	c.Schemas.add("InferInput", object("", []string{"name", "datatype", "shape"},
		prop("name", str("")), prop("datatype", datatype), prop("shape", shape), prop("data", data),
		prop("parameters", object("", nil, prop("binary_data_size", binarySize)))))
	c.Schemas.add("InferRequestedOutput", object("", []string{"name"}, prop("name", str("")),
		prop("parameters", object("", nil, prop("binary_data", &oaSchema{Type: oaBoolean, Description: "Answer this output as binary data."})))))
	c.Schemas.add("InferRequest", object("", []string{"inputs"},
		prop("id", str("Echoed in the response.")),
		prop("parameters", object("", nil,
			prop("timeout", &oaSchema{Type: oaInteger, Minimum: bound(0), Description: "The deadline in microseconds."}),
			prop("binary_data_output", &oaSchema{Type: oaBoolean, Description: "Answer every output as binary data."}))),
		prop("inputs", arrayOf(ref("InferInput"))),
		prop("outputs", &oaSchema{Type: oaArray, Items: ref("InferRequestedOutput"), Description: "The outputs to answer; all when absent."})))
	c.Schemas.add("InferOutput", object("", []string{"name", "datatype", "shape"},
		prop("name", str("")), prop("datatype", datatype), prop("shape", shape), prop("data", data),
		prop("parameters", object("", nil, prop("binary_data_size", binarySize)))))
	c.Schemas.add("InferResponse", object("", []string{"model_name", "model_version", "outputs"},
		prop("model_name", str("")), prop("model_version", str("The version that answered.")), prop("id", str("The request's id.")),
		prop("parameters", object("", nil, prop("prediction_id", str("The answer's prediction id, for the feedback API.")))),
		prop("outputs", arrayOf(ref("InferOutput")))))
	c.Schemas.add("Live", object("", []string{"live"}, prop("live", &oaSchema{Type: oaBoolean})))
	c.Schemas.add("Ready", object("", []string{"ready"}, prop("ready", &oaSchema{Type: oaBoolean})))
	c.Schemas.add("IndexEntry", object("", []string{"name", "version", "state"},
		prop("name", str("")), prop("version", str("")), prop("state", &oaSchema{Type: oaString, Enum: states}),
		prop("reason", str("Why the version is in its state, when there is a reason."))))
	c.Schemas.add("LoadAnswer", object("", []string{"versions"},
		prop("error", str("Why the newest version did not become ready.")), prop("versions", arrayOf(ref("IndexEntry")))))
	c.Schemas.add("ActionRequest", object("", []string{"reason"},
		prop("version", &oaSchema{Type: oaInteger, Minimum: bound(1), Description: "The version to promote (promote only)."}),
		prop("strategy", str("How to promote: bluegreen (the default), canary, shadow or manual (promote only).")),
		prop("reason", str("Why, for the audit trail.")),
		prop("actor", str("Who, for the audit trail; admin-api when absent.")),
		prop("force", &oaSchema{Type: oaBoolean, Description: "Route the version although it failed its gate (promote only)."})))
	c.Schemas.add("MLflowError", object("", []string{"error_code", "message"}, prop("error_code", str("")), prop("message", str(""))))
}

// addV2Paths adds the V2 API's paths to p.
func addV2Paths(p *oaMap[*oaPathItem]) {
	versionAny := versionParam(0)
	binaryLen := oaParameter{Name: binaryHeader, In: "header", Schema: &oaSchema{Type: oaInteger, Minimum: bound(0)},
		Description: "With binary tensor data: the length of the JSON that starts the body."}
	metadata := jsonOK("The model's ready versions and the signature of the one asked for (the serving version when none is named).", ref("ModelMetadata"))
	metadata.Headers = modelVersionHeader()
	ready := &oaResponse{Description: "ready is false, with status 400.", Content: map[string]oaMedia{contentTypeJSON: {Schema: ref("Ready")}}}
	infer := func(id, summary string, params ...oaParameter) *oaOperation {
		o := op(tagV2, id, summary, &oaResponse{Description: "The outputs; with binary data, the JSON followed by the tensor bytes.",
			Headers: modelVersionHeader(), Content: map[string]oaMedia{contentTypeJSON: {Schema: ref("InferResponse")}, "application/octet-stream": {}}},
			"BadRequest", "NotFound", "TooLarge", "Unavailable", "Timeout")
		o.Parameters = append(params, routingKeyParam, timeoutParam, binaryLen)
		o.RequestBody = &oaRequestBody{Required: true, Content: map[string]oaMedia{
			contentTypeJSON:            {Schema: ref("InferRequest")},
			"application/octet-stream": {}, // the JSON header, then the tensors' bytes
		}}
		return o
	}
	readyOp := func(id, summary string, params ...oaParameter) *oaOperation {
		o := op(tagV2, id, summary, jsonOK("ready is true.", ref("Ready")), "NotFound").withParams(params...)
		o.Responses["400"] = ready
		return o
	}

	p.add("/v2", &oaPathItem{Get: op(tagV2, "serverMetadata", "The server's name, version and extensions",
		jsonOK("The server's metadata.", ref("ServerMetadata")))})
	p.add("/v2/health/live", &oaPathItem{Get: op(tagV2, "serverLive", "Whether the server is up",
		jsonOK("live is true.", ref("Live")))})
	serverReady := op(tagV2, "serverReady", "Whether the server is ready to serve", jsonOK("ready is true.", ref("Ready")))
	serverReady.Responses["400"] = ready
	p.add("/v2/health/ready", &oaPathItem{Get: serverReady})
	p.add("/v2/models/{model}", &oaPathItem{Get: op(tagV2, "modelMetadata", "A model's metadata",
		metadata, "NotFound", "Unavailable").withParams(modelParam)})
	p.add("/v2/models/{model}/versions/{version}", &oaPathItem{Get: op(tagV2, "modelVersionMetadata", "A version's metadata",
		metadata, "NotFound", "Unavailable").withParams(modelParam, versionAny)})
	p.add("/v2/models/{model}/ready", &oaPathItem{Get: readyOp("modelReady", "Whether the model serves", modelParam)})
	p.add("/v2/models/{model}/versions/{version}/ready", &oaPathItem{Get: readyOp("modelVersionReady",
		"Whether the version serves", modelParam, versionAny)})
	p.add("/v2/models/{model}/infer", &oaPathItem{Post: infer("infer", "Run the version the model's routing picks", modelParam)})
	p.add("/v2/models/{model}/versions/{version}/infer", &oaPathItem{Post: infer("inferVersion", "Run one version", modelParam, versionAny)})

	p.add("/v2/repository/index", &oaPathItem{Post: op(tagRepository, "repositoryIndex", "Every version of every model, with its state",
		jsonOK("The versions.", arrayOf(ref("IndexEntry"))), "BadRequest").
		withBody(object("", nil, prop("ready", &oaSchema{Type: oaBoolean, Description: "List only the versions that are ready."})), false)})
	for _, verb := range []string{"load", "unload"} {
		o := op(tagRepository, "repository"+strings.ToUpper(verb[:1])+verb[1:], "Wait until the model has settled after a "+verb,
			jsonOK("The model's versions once it has settled.", ref("LoadAnswer")), "NotFound", "Unavailable").withParams(modelParam)
		if verb == "load" {
			o.Responses["400"] = &oaResponse{Description: "The newest version did not become ready; error says why.",
				Content: map[string]oaMedia{contentTypeJSON: {Schema: ref("LoadAnswer")}}}
		}
		p.add("/v2/repository/models/{model}/"+verb, &oaPathItem{Post: o})
	}
}

// addRecordsPaths adds the records API's paths and the documentation's
// to p.
func addRecordsPaths(p *oaMap[*oaPathItem]) {
	p.add("/v1/models/{model}:predict", &oaPathItem{Post: predictOperation("predict",
		"Predict with the version the model's routing picks", []oaParameter{modelParam}, nil)})
	p.add("/v1/models/{model}/versions/{version}:predict", &oaPathItem{Post: predictOperation("predictVersion",
		"Predict with one version of the model", []oaParameter{modelParam, versionParam(0)}, nil)})
	p.add("/v1/models/{model}/openapi.json", &oaPathItem{Get: op(tagRecords, "modelOpenAPI",
		"The OpenAPI document of the model's records API, with its fields",
		jsonOK("An OpenAPI 3.1 document, generated from the feature schema of the version that serves the model.", &oaSchema{Type: oaObject}),
		"NotFound", "Unavailable").withParams(modelParam)})
	p.add("/openapi.json", &oaPathItem{Get: op(tagDocs, "serverOpenAPI", "This document",
		jsonOK("An OpenAPI 3.1 document.", &oaSchema{Type: oaObject}))})
	p.add("/docs", &oaPathItem{Get: op(tagDocs, "docs", "A page that renders these documents and tries requests",
		&oaResponse{Description: "An HTML page.", Content: map[string]oaMedia{"text/html": {Schema: &oaSchema{Type: oaString}}}})})
}

// addAdminPaths adds the operations API's paths to p.
func addAdminPaths(p *oaMap[*oaPathItem]) {
	// Either no token (the server has none) or the bearer token.
	security := []map[string][]string{{}, {"adminToken": {}}}
	explode := true
	admin := func(id, summary, desc string, params ...oaParameter) *oaOperation {
		o := op(tagAdmin, id, summary, jsonOK(desc, &oaSchema{Type: oaObject}), "BadRequest", "Unauthorized", "NotFound", "Unavailable")
		o.Parameters, o.Security = params, security
		return o
	}
	query := func(name, desc string, s *oaSchema) oaParameter {
		return oaParameter{Name: name, In: "query", Description: desc, Schema: s}
	}
	p.add("/admin/models", &oaPathItem{Get: admin("adminModels", "Every model with its versions and rollout",
		"models: each model's versions with state, reason, traffic share, gate verdict and lineage, its rollout state and the controller's last analysis.")})
	p.add("/admin/models/{model}", &oaPathItem{Get: admin("adminModel", "One model with its versions and rollout",
		"The model as /admin/models lists it.", modelParam)})
	for _, a := range []struct{ verb, summary string }{
		{"promote", "Promote a version (body: version, strategy, reason)"},
		{"rollback", "Route back to the previous version at once"},
		{"pause", "Pause the model's rollout"},
		{"resume", "Resume the model's rollout"},
	} {
		o := admin("admin"+strings.ToUpper(a.verb[:1])+a.verb[1:], a.summary,
			"model, action and the rollout state that now routes the model's requests.", modelParam).
			withBody(ref("ActionRequest"), true)
		p.add("/admin/models/{model}/"+a.verb, &oaPathItem{Post: o})
	}
	p.add("/admin/audit", &oaPathItem{Get: admin("adminAudit", "The audit trail, newest first",
		"entries: who did what, when and why.",
		query("model", "Only this model's entries.", &oaSchema{Type: oaString}),
		query("since", "A duration back from now (24h) or an RFC 3339 time.", &oaSchema{Type: oaString}),
		query("limit", "At most this many entries.", &oaSchema{Type: oaInteger, Minimum: bound(1)}))})
	p.add("/admin/runs", &oaPathItem{Get: admin("adminRuns", "The most recent active training runs, newest first",
		"runs: each run with its params, metrics and the versions it produced.",
		oaParameter{Name: "experiment_id", In: "query", Description: "Only these experiments' runs; repeat it for several.",
			Explode: &explode, Schema: arrayOf(&oaSchema{Type: oaString})},
		query("max_results", "At most this many runs (100 when absent).", &oaSchema{Type: oaInteger, Minimum: bound(1)}))})
	p.add("/admin/runs/{run_id}", &oaPathItem{Get: admin("adminRun", "One training run with its lineage",
		"The run and the versions it produced.", runParam)})
}

// addMLflowPaths adds the paths of MLflow's API that the server serves
// (mlflowEndpoints) and its artifact proxy to p, with their schemas in c.
func addMLflowPaths(p *oaMap[*oaPathItem], c *oaComponents) {
	mlflowErrs := map[string]*oaResponse{"400": refResponse("MLflowError"), "404": refResponse("MLflowError"),
		"503": refResponse("MLflowError")}
	anyObject := &oaSchema{Type: oaObject}
	idOf := strings.NewReplacer("/", "_", "-", "_")
	for _, name := range slices.Sorted(maps.Keys(mlflowEndpoints)) {
		item := &oaPathItem{}
		for _, method := range mlflowEndpoints[name].methods {
			o := &oaOperation{Tags: []string{tagMLflow}, OperationID: "mlflow_" + idOf.Replace(name) + "_" + strings.ToLower(method),
				Summary:     "MLflow " + name,
				Description: "As MLflow's REST API defines it: the request's fields as query parameters for GET, a JSON body otherwise.",
				Responses:   maps.Clone(mlflowErrs)}
			o.Responses["200"] = jsonOK("As MLflow answers.", anyObject)
			if method != fasthttp.MethodGet {
				o.withBody(anyObject, false)
			}
			switch method {
			case fasthttp.MethodGet:
				item.Get = o
			case fasthttp.MethodPost:
				item.Post = o
			case fasthttp.MethodPatch:
				item.Patch = o
			case fasthttp.MethodDelete:
				item.Delete = o
			default:
				panic(fmt.Sprintf("BUG: MLflow endpoint %s has method %s, which the OpenAPI document cannot place", name, method))
			}
		}
		p.add(mlflowPrefix+name, item)
	}

	c.Schemas.add("ArtifactList", object("", []string{"files"}, prop("files", arrayOf(object("", []string{"path", "is_dir"},
		prop("path", str("")), prop("is_dir", &oaSchema{Type: oaBoolean}), prop("file_size", &oaSchema{Type: oaInteger}))))))
	list := &oaOperation{Tags: []string{tagArtifacts}, OperationID: "artifactsList", Summary: "List an artifact directory",
		Parameters: []oaParameter{{Name: "path", In: "query", Description: "The directory, relative to the artifact root.", Schema: &oaSchema{Type: oaString}}},
		Responses:  maps.Clone(mlflowErrs)}
	list.Responses["200"] = jsonOK("The directory's entries.", ref("ArtifactList"))
	p.add(artifactsPrefix, &oaPathItem{Get: list})

	pathParam := oaParameter{Name: "path", In: "path", Required: true, Schema: &oaSchema{Type: oaString},
		Description: "The artifact's path below the artifact root; its slashes are sent as they are."}
	get := &oaOperation{Tags: []string{tagArtifacts}, OperationID: "artifactsGet", Summary: "Download an artifact",
		Parameters: []oaParameter{pathParam}, Responses: maps.Clone(mlflowErrs)}
	get.Responses["200"] = &oaResponse{Description: "The file.", Content: map[string]oaMedia{"application/octet-stream": {}}}
	put := &oaOperation{Tags: []string{tagArtifacts}, OperationID: "artifactsPut", Summary: "Upload an artifact",
		Parameters:  []oaParameter{pathParam},
		RequestBody: &oaRequestBody{Required: true, Content: map[string]oaMedia{"application/octet-stream": {}}},
		Responses:   maps.Clone(mlflowErrs)}
	put.Responses["200"] = jsonOK("Stored.", anyObject)
	p.add(artifactsPrefix+"/{path}", &oaPathItem{Get: get, Put: put})
}

// addProbePaths adds the load balancers' probes and /metrics to p.
func addProbePaths(p *oaMap[*oaPathItem]) {
	p.add("/metrics", &oaPathItem{Get: op(tagProbes, "metrics", "Prometheus metrics",
		textOK("The metrics in Prometheus' text format."))})
	p.add("/healthz", &oaPathItem{Get: op(tagProbes, "healthz", "Whether the process is up", textOK("ok"))})
	readyz := op(tagProbes, "readyz", "Whether the server is ready to serve", textOK("ok"))
	readyz.Responses["503"] = &oaResponse{Description: "not ready (also while the server shuts down)",
		Content: map[string]oaMedia{"text/plain": {Schema: &oaSchema{Type: oaString}}}}
	p.add("/readyz", &oaPathItem{Get: readyz})
}
