package server

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/server/internal/openapi"
)

// serverOpenAPI serves GET /openapi.json: the OpenAPI document of every
// endpoint the server serves. Each model's fields are in its own document,
// GET /v1/models/{m}/openapi.json.
func (s *Server) serverOpenAPI(ctx *fasthttp.RequestCtx) {
	body, err := s.document()
	if err != nil {
		httpapi.WriteError(ctx, err)
		return
	}
	ctx.SetContentType(httpapi.ContentTypeJSON)
	ctx.Response.SetBodyRaw(body) // shared and never modified
}

// documentJSON returns the document of the endpoints of apis as JSON.
func documentJSON(apis []*httpapi.API) ([]byte, error) {
	b, err := json.Marshal(serverDocument(apis))
	if err != nil {
		return nil, fmt.Errorf("encode the server's OpenAPI document: %w", err)
	}
	return b, nil
}

// The tags of the root API's part of the document.
const (
	tagV2         = "V2 inference"
	tagRepository = "V2 model repository"
	tagRecords    = "Records"
	tagDocs       = "Documentation"
	tagProbes     = "Probes and metrics"
)

// rootTags describes the tags of the root API's operations.
var rootTags = []openapi.Tag{
	{Name: tagV2, Description: "The Open Inference Protocol (KServe V2), with the binary tensor data extension."},
	{Name: tagRepository, Description: "The model repository extension of the V2 protocol."},
	{Name: tagRecords, Description: "Named features as JSON, validated against the model's feature schema."},
	{Name: tagDocs, Description: "These documents, the page that renders them, and each version's model card."},
	{Name: tagProbes, Description: "For load balancers and Prometheus."},
}

// serverDocument returns the OpenAPI document of the whole server: every
// endpoint of apis that has an operation, under its path, with the tags
// and components of each API.
func serverDocument(apis []*httpapi.API) *openapi.Doc {
	instance := &openapi.Schema{Type: openapi.TypeObject, Description: "One record: its fields are the model's features. " +
		"GET /v1/models/{model}/openapi.json lists them, with their types, ranges, allowed values and defaults."}
	classified := openapi.Object("A classifier's prediction for one instance.", []string{"label", "probabilities"},
		openapi.Prop("label", openapi.Str("The most probable class.")),
		openapi.Prop("probabilities", &openapi.Schema{Type: openapi.TypeObject, Description: "The probability of each class, by class name.",
			AdditionalProperties: &openapi.Schema{Type: openapi.TypeNumber, Minimum: openapi.Bound(0), Maximum: openapi.Bound(1)}}))
	prediction := &openapi.Schema{OneOf: []*openapi.Schema{classified, regressionSchema()}}

	doc := &openapi.Doc{
		OpenAPI: openapi.Version,
		Info: openapi.Info{Title: "switchyard", Version: Version, Description: "An ONNX inference server: the Open Inference " +
			"Protocol (V2), a records API over each model's feature schema, the operations API and an MLflow-compatible " +
			"tracking API. Each model's records API, with its fields, is described at /v1/models/{model}/openapi.json; " +
			"/docs renders these documents and tries requests."},
		Components: recordsComponents(instance, prediction, nil),
	}
	addV2Schemas(&doc.Components)
	for _, a := range apis {
		doc.Tags = append(doc.Tags, a.Tags...)
		if a.Components != nil {
			a.Components(&doc.Components)
		}
		for i := range a.Endpoints {
			addOperation(&doc.Paths, &a.Endpoints[i])
		}
	}
	return doc
}

// addOperation adds e's operation to p under e's path, {name...} written
// {name}; nothing when e has none.
func addOperation(p *openapi.Map[*openapi.PathItem], e *httpapi.Endpoint) {
	if e.Op == nil {
		return
	}
	path := strings.ReplaceAll(e.Path, "...}", "}")
	var item *openapi.PathItem
	for _, m := range *p {
		if m.Key == path {
			item = m.Value
		}
	}
	if item == nil {
		item = &openapi.PathItem{}
		p.Add(path, item)
	}
	switch e.Method {
	case fasthttp.MethodGet:
		item.Get = e.Op
	case fasthttp.MethodPost:
		item.Post = e.Op
	case fasthttp.MethodPut:
		item.Put = e.Op
	case fasthttp.MethodPatch:
		item.Patch = e.Op
	case fasthttp.MethodDelete:
		item.Delete = e.Op
	default:
		panic(fmt.Sprintf("BUG: endpoint %s %s has a method the OpenAPI document cannot place", e.Method, e.Path))
	}
}

// addV2Schemas adds the schemas of the V2 API to c.
func addV2Schemas(c *openapi.Components) {
	var dtypes []string
	for d := engine.FP32; d <= engine.BOOL; d++ {
		dtypes = append(dtypes, d.String())
	}
	datatype := &openapi.Schema{Type: openapi.TypeString, Enum: dtypes}
	var states []string
	for _, st := range modelstore.States {
		states = append(states, st.String())
	}
	shape := &openapi.Schema{Type: openapi.TypeArray, Items: &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(-1)},
		Description: "The dimensions; -1 is a dimension of any size in metadata."}
	data := &openapi.Schema{Type: openapi.TypeArray, Description: "The elements in row-major order, flat or nested as the shape: " +
		"numbers, or true and false for BOOL. Absent when the tensor travels as binary data."}
	binarySize := &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(0),
		Description: "The tensor's size in bytes in the binary data that follows the JSON."}
	tensorMeta := openapi.Object("", []string{"name", "datatype", "shape"},
		openapi.Prop("name", openapi.Str("")), openapi.Prop("datatype", datatype), openapi.Prop("shape", shape))

	c.Schemas.Add("ServerMetadata", openapi.Object("", []string{"name", "version", "extensions"},
		openapi.Prop("name", openapi.Str("")), openapi.Prop("version", openapi.Str("")), openapi.Prop("extensions", openapi.ArrayOf(openapi.Str("")))))
	c.Schemas.Add("TensorMetadata", tensorMeta)
	c.Schemas.Add("ModelMetadata", openapi.Object("", []string{"name", "versions", "platform", "inputs", "outputs"},
		openapi.Prop("name", openapi.Str("")), openapi.Prop("versions", &openapi.Schema{Type: openapi.TypeArray, Items: openapi.Str(""), Description: "The versions that are ready."}),
		openapi.Prop("platform", openapi.Str("")), openapi.Prop("inputs", openapi.ArrayOf(openapi.Ref("TensorMetadata"))), openapi.Prop("outputs", openapi.ArrayOf(openapi.Ref("TensorMetadata")))))
	c.Schemas.Add("InferInput", openapi.Object("", []string{"name", "datatype", "shape"},
		openapi.Prop("name", openapi.Str("")), openapi.Prop("datatype", datatype), openapi.Prop("shape", shape), openapi.Prop("data", data),
		openapi.Prop("parameters", openapi.Object("", nil, openapi.Prop("binary_data_size", binarySize)))))
	c.Schemas.Add("InferRequestedOutput", openapi.Object("", []string{"name"}, openapi.Prop("name", openapi.Str("")),
		openapi.Prop("parameters", openapi.Object("", nil, openapi.Prop("binary_data", &openapi.Schema{Type: openapi.TypeBoolean, Description: "Answer this output as binary data."})))))
	c.Schemas.Add("InferRequest", openapi.Object("", []string{"inputs"},
		openapi.Prop("id", openapi.Str("Echoed in the response.")),
		openapi.Prop("parameters", openapi.Object("", nil,
			openapi.Prop("timeout", &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(0), Description: "The deadline in microseconds."}),
			openapi.Prop("binary_data_output", &openapi.Schema{Type: openapi.TypeBoolean, Description: "Answer every output as binary data."}))),
		openapi.Prop("inputs", openapi.ArrayOf(openapi.Ref("InferInput"))),
		openapi.Prop("outputs", &openapi.Schema{Type: openapi.TypeArray, Items: openapi.Ref("InferRequestedOutput"), Description: "The outputs to answer; all when absent."})))
	c.Schemas.Add("InferOutput", openapi.Object("", []string{"name", "datatype", "shape"},
		openapi.Prop("name", openapi.Str("")), openapi.Prop("datatype", datatype), openapi.Prop("shape", shape), openapi.Prop("data", data),
		openapi.Prop("parameters", openapi.Object("", nil, openapi.Prop("binary_data_size", binarySize)))))
	c.Schemas.Add("InferResponse", openapi.Object("", []string{"model_name", "model_version", "outputs"},
		openapi.Prop("model_name", openapi.Str("")), openapi.Prop("model_version", openapi.Str("The version that answered.")), openapi.Prop("id", openapi.Str("The request's id.")),
		openapi.Prop("parameters", openapi.Object("", nil, openapi.Prop("prediction_id", openapi.Str("The answer's prediction id, for the feedback API.")))),
		openapi.Prop("outputs", openapi.ArrayOf(openapi.Ref("InferOutput")))))
	c.Schemas.Add("Live", openapi.Object("", []string{"live"}, openapi.Prop("live", &openapi.Schema{Type: openapi.TypeBoolean})))
	c.Schemas.Add("Ready", openapi.Object("", []string{"ready"}, openapi.Prop("ready", &openapi.Schema{Type: openapi.TypeBoolean})))
	c.Schemas.Add("IndexEntry", openapi.Object("", []string{"name", "version", "state"},
		openapi.Prop("name", openapi.Str("")), openapi.Prop("version", openapi.Str("")), openapi.Prop("state", &openapi.Schema{Type: openapi.TypeString, Enum: states}),
		openapi.Prop("reason", openapi.Str("Why the version is in its state, when there is a reason."))))
	c.Schemas.Add("LoadAnswer", openapi.Object("", []string{"versions"},
		openapi.Prop("error", openapi.Str("Why the newest version did not become ready.")), openapi.Prop("versions", openapi.ArrayOf(openapi.Ref("IndexEntry")))))
}

// The operations of the root API's endpoints, for its table (route.go).

// binaryLenParam is the header of a request with binary tensor data.
var binaryLenParam = openapi.Parameter{Name: binaryHeader, In: "header", Schema: &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(0)},
	Description: "With binary tensor data: the length of the JSON that starts the body."}

// notReady is the 400 of the V2 readiness checks.
func notReady() *openapi.Response {
	return &openapi.Response{Description: "ready is false, with status 400.",
		Content: map[string]openapi.Media{httpapi.ContentTypeJSON: {Schema: openapi.Ref("Ready")}}}
}

func inferOp(id, summary string, params ...openapi.Parameter) *openapi.Operation {
	o := openapi.Op(tagV2, id, summary, &openapi.Response{Description: "The outputs; with binary data, the JSON followed by the tensor bytes.",
		Headers: modelVersionHeader(), Content: map[string]openapi.Media{httpapi.ContentTypeJSON: {Schema: openapi.Ref("InferResponse")}, "application/octet-stream": {}}},
		"BadRequest", "NotFound", "TooLarge", "Unavailable", "Timeout")
	o.Parameters = append(params, routingKeyParam, timeoutParam, binaryLenParam)
	o.RequestBody = &openapi.RequestBody{Required: true, Content: map[string]openapi.Media{
		httpapi.ContentTypeJSON:    {Schema: openapi.Ref("InferRequest")},
		"application/octet-stream": {}, // the JSON header, then the tensors' bytes
	}}
	return o
}

func readyOp(id, summary string, params ...openapi.Parameter) *openapi.Operation {
	o := openapi.Op(tagV2, id, summary, openapi.JSONOK("ready is true.", openapi.Ref("Ready")), "NotFound").WithParams(params...)
	o.Responses["400"] = notReady()
	return o
}

func serverReadyOp() *openapi.Operation {
	o := openapi.Op(tagV2, "serverReady", "Whether the server is ready to serve", openapi.JSONOK("ready is true.", openapi.Ref("Ready")))
	o.Responses["400"] = notReady()
	return o
}

func metadataOp(id, summary string, params ...openapi.Parameter) *openapi.Operation {
	ok := openapi.JSONOK("The model's ready versions and the signature of the one asked for (the serving version when none is named).", openapi.Ref("ModelMetadata"))
	ok.Headers = modelVersionHeader()
	return openapi.Op(tagV2, id, summary, ok, "NotFound", "Unavailable").WithParams(params...)
}

func repositoryIndexOp() *openapi.Operation {
	return openapi.Op(tagRepository, "repositoryIndex", "Every version of every model, with its state",
		openapi.JSONOK("The versions.", openapi.ArrayOf(openapi.Ref("IndexEntry"))), "BadRequest").
		WithBody(openapi.Object("", nil, openapi.Prop("ready", &openapi.Schema{Type: openapi.TypeBoolean, Description: "List only the versions that are ready."})), false)
}

// repositoryLoadOp is the operation of POST /v2/repository/models/{m}/VERB.
func repositoryLoadOp(verb string) *openapi.Operation {
	o := openapi.Op(tagRepository, "repository"+strings.ToUpper(verb[:1])+verb[1:], "Wait until the model has settled after a "+verb,
		openapi.JSONOK("The model's versions once it has settled.", openapi.Ref("LoadAnswer")), "NotFound", "Unavailable").WithParams(openapi.ModelParam)
	if verb == "load" {
		o.Responses["400"] = &openapi.Response{Description: "The newest version did not become ready; error says why.",
			Content: map[string]openapi.Media{httpapi.ContentTypeJSON: {Schema: openapi.Ref("LoadAnswer")}}}
	}
	return o
}

func modelOpenAPIOp() *openapi.Operation {
	return openapi.Op(tagRecords, "modelOpenAPI", "The OpenAPI document of the model's records API, with its fields",
		openapi.JSONOK("An OpenAPI 3.1 document, generated from the feature schema of the version that serves the model.", &openapi.Schema{Type: openapi.TypeObject}),
		"NotFound", "Unavailable").WithParams(openapi.ModelParam)
}

func docsOp() *openapi.Operation {
	return openapi.Op(tagDocs, "docs", "A page that renders these documents and tries requests",
		&openapi.Response{Description: "An HTML page.", Content: map[string]openapi.Media{"text/html": {Schema: &openapi.Schema{Type: openapi.TypeString}}}})
}

func readyzOp() *openapi.Operation {
	o := openapi.Op(tagProbes, "readyz", "Whether the server is ready to serve", openapi.TextOK("ok"))
	o.Responses["503"] = &openapi.Response{Description: "not ready (also while the server shuts down)",
		Content: map[string]openapi.Media{"text/plain": {Schema: &openapi.Schema{Type: openapi.TypeString}}}}
	return o
}
