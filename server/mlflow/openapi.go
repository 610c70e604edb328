package mlflow

import (
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/server/internal/openapi"
)

// The tags of the API's operations in the server's OpenAPI document.
const (
	tagMLflow    = "MLflow tracking"
	tagArtifacts = "MLflow artifacts"
)

var tags = []openapi.Tag{
	{Name: tagMLflow, Description: "A subset of MLflow's REST API, so that an MLflow client can log to switchyard. The same endpoints answer under /ajax-api/2.0/mlflow/."},
	{Name: tagArtifacts, Description: "MLflow's artifact proxy. Below registry/NAME/VERSION it serves the files of the registry's versions, " +
		"read-only (the artifact_uri of model-versions/get-download-uri)."},
}

// addComponents adds the schemas and responses the API's operations
// refer to.
func addComponents(c *openapi.Components) {
	c.Responses["MLflowError"] = &openapi.Response{Description: "MLflow's error form: 400 INVALID_PARAMETER_VALUE or RESOURCE_ALREADY_EXISTS, " +
		"403 PERMISSION_DENIED on a write below the artifact proxy's registry/ prefix, 404 RESOURCE_DOES_NOT_EXIST or ENDPOINT_NOT_FOUND, " +
		"503 TEMPORARILY_UNAVAILABLE on a server without a tracking store.",
		Content: map[string]openapi.Media{httpapi.ContentTypeJSON: {Schema: openapi.Ref("MLflowError")}}}
	c.Schemas.Add("MLflowError", openapi.Object("", []string{"error_code", "message"}, openapi.Prop("error_code", openapi.Str("")), openapi.Prop("message", openapi.Str(""))))
	c.Schemas.Add("ArtifactList", openapi.Object("", []string{"files"}, openapi.Prop("files", openapi.ArrayOf(openapi.Object("", []string{"path", "is_dir"},
		openapi.Prop("path", openapi.Str("")), openapi.Prop("is_dir", &openapi.Schema{Type: openapi.TypeBoolean}), openapi.Prop("file_size", &openapi.Schema{Type: openapi.TypeInteger}))))))
}

// errorResponses returns the error responses of every operation of the
// API, in MLflow's form.
func errorResponses() map[string]*openapi.Response {
	return map[string]*openapi.Response{"400": openapi.RefResponse("MLflowError"), "404": openapi.RefResponse("MLflowError"),
		"503": openapi.RefResponse("MLflowError")}
}

// idOf turns an endpoint's name into a part of an operation id.
var idOf = strings.NewReplacer("/", "_", "-", "_")

// operation returns the operation of a line of the endpoint table: MLflow
// defines each endpoint's fields, which the document does not repeat.
func operation(e endpoint) *openapi.Operation {
	anyObject := &openapi.Schema{Type: openapi.TypeObject}
	o := &openapi.Operation{Tags: []string{tagMLflow}, OperationID: "mlflow_" + idOf.Replace(e.name) + "_" + strings.ToLower(e.method),
		Summary:     "MLflow " + e.name,
		Description: "As MLflow's REST API defines it: the request's fields as query parameters for GET, a JSON body otherwise.",
		Responses:   errorResponses()}
	o.Responses["200"] = openapi.JSONOK("As MLflow answers.", anyObject)
	if e.method != fasthttp.MethodGet {
		o.WithBody(anyObject, false)
	}
	return o
}

// artifactPathParam is the {path} of an artifact.
var artifactPathParam = openapi.Parameter{Name: "path", In: "path", Required: true, Schema: &openapi.Schema{Type: openapi.TypeString},
	Description: "The artifact's path below the artifact root; its slashes are sent as they are."}

func listArtifactsOp() *openapi.Operation {
	o := &openapi.Operation{Tags: []string{tagArtifacts}, OperationID: "artifactsList", Summary: "List an artifact directory",
		Parameters: []openapi.Parameter{{Name: "path", In: "query", Description: "The directory, relative to the artifact root.", Schema: &openapi.Schema{Type: openapi.TypeString}}},
		Responses:  errorResponses()}
	o.Responses["200"] = openapi.JSONOK("The directory's entries.", openapi.Ref("ArtifactList"))
	return o
}

func getArtifactOp() *openapi.Operation {
	o := &openapi.Operation{Tags: []string{tagArtifacts}, OperationID: "artifactsGet", Summary: "Download an artifact",
		Parameters: []openapi.Parameter{artifactPathParam}, Responses: errorResponses()}
	o.Responses["200"] = &openapi.Response{Description: "The file.", Content: map[string]openapi.Media{"application/octet-stream": {}}}
	return o
}

func putArtifactOp() *openapi.Operation {
	o := &openapi.Operation{Tags: []string{tagArtifacts}, OperationID: "artifactsPut", Summary: "Upload an artifact",
		Parameters:  []openapi.Parameter{artifactPathParam},
		RequestBody: &openapi.RequestBody{Required: true, Content: map[string]openapi.Media{"application/octet-stream": {}}},
		Responses:   errorResponses()}
	o.Responses["200"] = openapi.JSONOK("Stored.", &openapi.Schema{Type: openapi.TypeObject})
	// Uploads are streamed to disk, bounded by the artifact limit, not by
	// the request body limit.
	o.Responses["413"] = openapi.RefResponse("MLflowError")
	o.Responses["507"] = openapi.RefResponse("MLflowError")
	// The registry's versions are read-only.
	o.Responses["403"] = openapi.RefResponse("MLflowError")
	return o
}
