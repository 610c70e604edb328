package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// openAPIVersion is the version of the OpenAPI specification both
// documents follow. Their schemas are JSON Schema 2020-12, its dialect.
const openAPIVersion = "3.1.0"

// modelOpenAPI serves GET /v1/models/{m}/openapi.json: the OpenAPI
// document of the model's records API, generated from the feature schema
// of the version that serves the model (the one GET /v2/models/{m}
// describes, named in X-Model-Version). A model without a schema is a
// 404, one with no version serving a 503. The document is built per
// request: it is a few kilobytes, built in tens of microseconds.
func (s *Server) modelOpenAPI(ctx *fasthttp.RequestCtx, r route) {
	v, err := s.models.Lookup(string(r.model), 0)
	if err != nil {
		writeError(ctx, err)
		return
	}
	doc, err := modelDocument(v)
	if err != nil {
		writeError(ctx, fmt.Errorf("openapi of model %q: %w", v.Model, err))
		return
	}
	ctx.Response.Header.Set("X-Model-Version", v.Label)
	writeJSON(ctx, fasthttp.StatusOK, doc)
}

// The JSON Schema types of the documents.
const (
	oaObject  = "object"
	oaArray   = "array"
	oaString  = "string"
	oaNumber  = "number"
	oaInteger = "integer"
	oaBoolean = "boolean"
)

// problemCodes lists the problem codes of the records API's 422.
var problemCodes = []string{problemMissing, problemType, problemRange, problemNotAllowed, problemUnknown, problemNotFinite}

// modelDocument returns the OpenAPI document of v's records API. It wraps
// errNoRecords when v serves none.
func modelDocument(v *modelstore.Version) (*oaDoc, error) {
	sch, err := recordSchemaOf(v)
	if err != nil {
		return nil, err
	}
	instance, example, err := instanceSchema(&sch)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", v.Label, err)
	}
	doc := &oaDoc{
		OpenAPI: openAPIVersion,
		Info: oaInfo{
			Title:   "switchyard: model " + v.Model,
			Version: v.Label,
			Description: fmt.Sprintf("The records API of model %s, generated from the feature schema of version %s, "+
				"the version that serves the model now. A request that names another version is checked "+
				"against that version's schema, which may differ. The whole server's API is at /openapi.json.",
				v.Model, v.Label),
		},
		Components: recordsComponents(instance, predictionSchema(sch.classes, sch.width), problemsExample(&sch, example)),
	}
	reqExample := map[string]any{"instances": []any{example}}
	modelPath := "/v1/models/" + v.Model
	doc.Paths.add(modelPath+":predict", &oaPathItem{Post: predictOperation("predict",
		"Predict with the version the model's routing picks", nil, reqExample)})
	doc.Paths.add(modelPath+"/versions/{version}:predict", &oaPathItem{Post: predictOperation("predictVersion",
		"Predict with one version of the model", []oaParameter{versionParam(v.Number)}, reqExample)})
	return doc, nil
}

// instanceSchema returns the schema of one record of sch, and an example
// record, its fields in schema order: each feature's default, else a
// value it allows (the number in its range nearest 0, the first of a
// category's values, false).
func instanceSchema(sch *recordSchema) (*oaSchema, oaMap[any], error) {
	inst := &oaSchema{Type: oaObject, Description: "One record: its fields are the model's features. " +
		"A field that is absent or null takes its default.", Required: []string{}}
	example := make(oaMap[any], 0, len(sch.features))
	for i := range sch.features {
		f := &sch.features[i]
		fs, err := featureSchema(f)
		if err != nil {
			return nil, nil, err
		}
		inst.Properties.add(f.Name, fs)
		if f.Default == nil {
			inst.Required = append(inst.Required, f.Name)
		}
		example.add(f.Name, exampleValue(f))
	}
	if sch.ignoreUnknown {
		inst.Description += " Fields the schema does not name are ignored."
	} else {
		inst.AdditionalProperties = false
		inst.Description += ` A field the schema does not name is refused (problem "unknown").`
	}
	return inst, example, nil
}

// featureSchema returns the JSON Schema of feature f's values.
func featureSchema(f *modelstore.Feature) (*oaSchema, error) {
	s := &oaSchema{Description: f.Description, Minimum: f.Min, Maximum: f.Max, Default: f.Default}
	switch f.Type {
	case modelstore.TypeNumber:
		s.Type = oaNumber
	case modelstore.TypeInteger:
		s.Type = oaInteger
	case modelstore.TypeCategory:
		if len(f.Values) == 0 {
			return nil, fmt.Errorf("feature %q: a category without values", f.Name)
		}
		s.Type, s.Enum = oaString, f.Values
	case modelstore.TypeBool:
		s.Type = oaBoolean
	default:
		return nil, fmt.Errorf("feature %q: unknown type %q", f.Name, f.Type)
	}
	return s, nil
}

// exampleValue returns a value feature f allows, for the example request.
// f's type has been checked by featureSchema.
func exampleValue(f *modelstore.Feature) any {
	if f.Default != nil {
		return f.Default
	}
	switch f.Type {
	case modelstore.TypeNumber, modelstore.TypeInteger:
		v := 0.0
		if f.Min != nil && v < *f.Min {
			v = *f.Min
			if f.Type == modelstore.TypeInteger {
				v = math.Ceil(v)
			}
		}
		if f.Max != nil && v > *f.Max {
			v = *f.Max
			if f.Type == modelstore.TypeInteger {
				v = math.Floor(v)
			}
		}
		return v
	case modelstore.TypeCategory:
		return f.Values[0]
	}
	return false
}

// problemsExample returns the 422 the records API answers to a bad copy
// of the example record: without its first required field and, when
// unknown fields are refused, with one; when neither applies, with its
// first field of the wrong type. It is the server's own answer, so it
// cannot drift from it; nil if, against expectation, the copy passes.
func problemsExample(sch *recordSchema, example oaMap[any]) json.RawMessage {
	bad := make(oaMap[any], 0, len(example)+1)
	dropped := false
	for i, e := range example {
		if !dropped && sch.features[i].Default == nil {
			dropped = true
			continue
		}
		bad = append(bad, e)
	}
	switch {
	case !sch.ignoreUnknown:
		bad.add("not_a_field", 1)
	case !dropped:
		bad[0].value = "?"
		if sch.features[0].Type == modelstore.TypeCategory {
			bad[0].value = 0
		}
	}
	body, err := json.Marshal(map[string]any{"instances": []any{bad}})
	if err != nil {
		return nil
	}
	var r records
	var pe *problemsError
	if !errors.As(decodeRecords(body, sch, &r), &pe) {
		return nil
	}
	return pe.appendJSON(nil)
}

// predictionSchema returns the schema of one prediction of a model whose
// output has width columns per row: a regressor's value (width 1), or a
// classifier's label and probabilities by class name, the names being
// classes or, without them, "0", "1", ... as the records API answers.
func predictionSchema(classes []string, width int) *oaSchema {
	if width == 1 {
		return regressionSchema()
	}
	names := make([]string, width)
	for j := range names {
		if j < len(classes) {
			names[j] = classes[j]
		} else {
			names[j] = strconv.Itoa(j)
		}
	}
	probs := &oaSchema{Type: oaObject, Description: "The probability of each class, by class name.", Required: names}
	for _, c := range names {
		probs.Properties.add(c, &oaSchema{Type: oaNumber, Minimum: bound(0), Maximum: bound(1)})
	}
	p := &oaSchema{Type: oaObject, Description: "A classifier's prediction for one instance.",
		Required: []string{"label", "probabilities"}}
	p.Properties.add("label", &oaSchema{Type: oaString, Enum: names, Description: "The most probable class."})
	p.Properties.add("probabilities", probs)
	return p
}

// regressionSchema is the schema of a regressor's prediction.
func regressionSchema() *oaSchema {
	p := &oaSchema{Type: oaObject, Description: "A regressor's prediction for one instance.", Required: []string{"value"}}
	p.Properties.add("value", &oaSchema{Type: oaNumber, Description: "The predicted value."})
	return p
}

// recordsComponents returns the components of the records API: the
// schemas of its request, answer and errors, with instance and prediction
// as the schemas of one record and one prediction, and the responses the
// operations refer to, the 422 with invalidExample as its example (none
// when empty).
func recordsComponents(instance, prediction *oaSchema, invalidExample json.RawMessage) oaComponents {
	req := &oaSchema{Type: oaObject, Required: []string{"instances"}, AdditionalProperties: false}
	req.Properties.add("instances", &oaSchema{Type: oaArray, Items: ref("Instance"), MinItems: 1, MaxItems: MaxInstances,
		Description: "The records to predict, answered in the same order."})

	resp := &oaSchema{Type: oaObject, Required: []string{"model_name", "model_version", "predictions", "prediction_ids"}}
	resp.Properties.add("model_name", &oaSchema{Type: oaString})
	resp.Properties.add("model_version", &oaSchema{Type: oaString, Description: "The version that answered."})
	resp.Properties.add("predictions", &oaSchema{Type: oaArray, Items: ref("Prediction"),
		Description: "One prediction per instance, in order."})
	resp.Properties.add("prediction_ids", &oaSchema{Type: oaArray, Items: &oaSchema{Type: oaString},
		Description: "One id per prediction, unique, for the feedback API."})

	problem := &oaSchema{Type: oaObject, Required: []string{"instance", "field", "problem", "message"}}
	problem.Properties.add("instance", &oaSchema{Type: oaInteger, Minimum: bound(0), Description: "The index of the instance in instances."})
	problem.Properties.add("field", &oaSchema{Type: oaString, Description: "The field the problem is about."})
	problem.Properties.add("problem", &oaSchema{Type: oaString, Enum: problemCodes, Description: "What kind of problem, " +
		"a code that never changes. missing: a field without a default is absent or null; type: a value of the wrong JSON type, " +
		"or an integer that is not whole; range: a number outside min and max, or an integer the model's input type cannot hold; " +
		"not_allowed: a category value not among its values; unknown: a field the schema does not name; " +
		"not_finite: NaN, an infinity, or a number too large for the model's float input."})
	problem.Properties.add("message", &oaSchema{Type: oaString, Description: "The problem in words, naming the field and the value."})

	invalid := &oaSchema{Type: oaObject, Required: []string{"error", "problems"},
		Description: "Every problem of every instance, by instance then field; nothing was sent to the model."}
	invalid.Properties.add("error", &oaSchema{Type: oaString, Description: `A summary, such as "2 problems in 2 instances".`})
	invalid.Properties.add("problems", &oaSchema{Type: oaArray, Items: ref("Problem")})

	c := commonComponents()
	c.Schemas.add("Instance", instance)
	c.Schemas.add("PredictRequest", req)
	c.Schemas.add("Prediction", prediction)
	c.Schemas.add("PredictResponse", resp)
	c.Schemas.add("Problem", problem)
	c.Schemas.add("ValidationError", invalid)
	media := oaMedia{Schema: ref("ValidationError")}
	if len(invalidExample) > 0 {
		media.Example = invalidExample
	}
	c.Responses["ValidationFailed"] = &oaResponse{Description: "The instances break the feature schema: every problem is listed.",
		Content: map[string]oaMedia{contentTypeJSON: media}}
	return c
}

// commonComponents returns the Error schema and the error responses every
// endpoint outside MLflow's API shares.
func commonComponents() oaComponents {
	errSchema := &oaSchema{Type: oaObject, Required: []string{"error"}}
	errSchema.Properties.add("error", &oaSchema{Type: oaString, Description: "What went wrong."})
	c := oaComponents{Responses: map[string]*oaResponse{}}
	c.Schemas.add("Error", errSchema)
	for name, desc := range map[string]string{
		"BadRequest": "The request is malformed; error says how.",
		"NotFound":   "No such model, version or endpoint.",
		"TooLarge":   "The body is larger than the server's limit.",
		"Timeout":    "The deadline passed before the model ran.",
	} {
		c.Responses[name] = errorResponse(desc)
	}
	unavailable := errorResponse("Not ready to serve it, or the queue is full: retry after Retry-After seconds.")
	unavailable.Headers = map[string]oaHeader{"Retry-After": {Description: "Seconds to wait before retrying.", Schema: &oaSchema{Type: oaInteger}}}
	c.Responses["Unavailable"] = unavailable
	return c
}

// errorResponse returns a response with description desc and an Error
// body.
func errorResponse(desc string) *oaResponse {
	return &oaResponse{Description: desc, Content: map[string]oaMedia{contentTypeJSON: {Schema: ref("Error")}}}
}

// predictOperation returns a predict operation with the request example
// reqExample (nil for none).
func predictOperation(id, summary string, params []oaParameter, reqExample any) *oaOperation {
	return &oaOperation{
		Tags:        []string{tagRecords},
		OperationID: id,
		Summary:     summary,
		Description: "Validates every instance against the feature schema before anything is queued, then runs " +
			"them through the same routing, batching and metrics as the V2 API.",
		Parameters: append(params, routingKeyParam, timeoutParam),
		RequestBody: &oaRequestBody{Required: true, Content: map[string]oaMedia{
			contentTypeJSON: {Schema: ref("PredictRequest"), Example: reqExample},
		}},
		Responses: map[string]*oaResponse{
			"200": {Description: "One prediction per instance.", Headers: modelVersionHeader(),
				Content: map[string]oaMedia{contentTypeJSON: {Schema: ref("PredictResponse")}}},
			"400": refResponse("BadRequest"),
			"404": refResponse("NotFound"),
			"413": refResponse("TooLarge"),
			"422": refResponse("ValidationFailed"),
			"503": refResponse("Unavailable"),
			"504": refResponse("Timeout"),
		},
	}
}

// The request headers of both inference APIs.
var (
	routingKeyParam = oaParameter{Name: routingKeyHeader, In: "header", Schema: &oaSchema{Type: oaString},
		Description: "Keeps requests with the same key on the same arm of a canary."}
	timeoutParam = oaParameter{Name: timeoutHeader, In: "header", Schema: &oaSchema{Type: oaInteger, Minimum: bound(0)},
		Description: "How long the request may wait before it runs, in milliseconds; it takes precedence over a V2 request's parameters.timeout and the model's default."}
)

// modelVersionHeader describes the X-Model-Version response header.
func modelVersionHeader() map[string]oaHeader {
	return map[string]oaHeader{"X-Model-Version": {Description: "The version that answered.", Schema: &oaSchema{Type: oaString}}}
}

// versionParam is the {version} path parameter; example is a version
// that serves, or 0 for none.
func versionParam(example int) oaParameter {
	p := oaParameter{Name: "version", In: "path", Required: true, Description: "The version number.",
		Schema: &oaSchema{Type: oaInteger, Minimum: bound(1)}}
	if example > 0 {
		p.Example = example
	}
	return p
}

// ref returns a reference to the schema called name in components.
func ref(name string) *oaSchema { return &oaSchema{Ref: "#/components/schemas/" + name} }

// refResponse returns a reference to the response called name in
// components.
func refResponse(name string) *oaResponse { return &oaResponse{Ref: "#/components/responses/" + name} }

// bound returns a pointer to v, for a minimum or maximum.
func bound(v float64) *float64 { return &v }

// The types below are the parts of an OpenAPI 3.1 document the server's
// documents use, marshalled with encoding/json.

// oaDoc is an OpenAPI document.
type oaDoc struct {
	OpenAPI    string             `json:"openapi"`
	Info       oaInfo             `json:"info"`
	Tags       []oaTag            `json:"tags,omitempty"`
	Paths      oaMap[*oaPathItem] `json:"paths"`
	Components oaComponents       `json:"components"`
}

type oaInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

type oaTag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

type oaComponents struct {
	Schemas         oaMap[*oaSchema]            `json:"schemas,omitempty"`
	Responses       map[string]*oaResponse      `json:"responses,omitempty"`
	SecuritySchemes map[string]oaSecurityScheme `json:"securitySchemes,omitempty"`
}

type oaSecurityScheme struct {
	Type        string `json:"type"`
	Scheme      string `json:"scheme,omitempty"`
	Description string `json:"description,omitempty"`
}

type oaPathItem struct {
	Get    *oaOperation `json:"get,omitempty"`
	Put    *oaOperation `json:"put,omitempty"`
	Post   *oaOperation `json:"post,omitempty"`
	Delete *oaOperation `json:"delete,omitempty"`
	Patch  *oaOperation `json:"patch,omitempty"`
}

type oaOperation struct {
	Tags        []string               `json:"tags,omitempty"`
	Summary     string                 `json:"summary,omitempty"`
	Description string                 `json:"description,omitempty"`
	OperationID string                 `json:"operationId,omitempty"`
	Parameters  []oaParameter          `json:"parameters,omitempty"`
	RequestBody *oaRequestBody         `json:"requestBody,omitempty"`
	Responses   map[string]*oaResponse `json:"responses"`
	// Security lists the ways to authenticate, any one of which
	// suffices; nil for none.
	Security []map[string][]string `json:"security,omitempty"`
}

type oaParameter struct {
	Name        string    `json:"name"`
	In          string    `json:"in"`
	Description string    `json:"description,omitempty"`
	Required    bool      `json:"required,omitempty"`
	Explode     *bool     `json:"explode,omitempty"`
	Schema      *oaSchema `json:"schema"`
	Example     any       `json:"example,omitempty"`
}

type oaRequestBody struct {
	Required bool               `json:"required,omitempty"`
	Content  map[string]oaMedia `json:"content"`
}

type oaMedia struct {
	Schema  *oaSchema `json:"schema,omitempty"`
	Example any       `json:"example,omitempty"`
}

// oaResponse is a response, or with Ref a reference to one in components.
type oaResponse struct {
	Ref         string              `json:"$ref,omitempty"`
	Description string              `json:"description,omitempty"`
	Headers     map[string]oaHeader `json:"headers,omitempty"`
	Content     map[string]oaMedia  `json:"content,omitempty"`
}

type oaHeader struct {
	Description string    `json:"description,omitempty"`
	Schema      *oaSchema `json:"schema"`
}

// oaSchema is the part of JSON Schema 2020-12 the documents use. A nil
// Default or AdditionalProperties is left out; AdditionalProperties is
// false to refuse other properties.
type oaSchema struct {
	Ref                  string           `json:"$ref,omitempty"`
	Type                 string           `json:"type,omitempty"`
	Description          string           `json:"description,omitempty"`
	Enum                 []string         `json:"enum,omitempty"`
	Minimum              *float64         `json:"minimum,omitempty"`
	Maximum              *float64         `json:"maximum,omitempty"`
	Default              any              `json:"default,omitempty"`
	Items                *oaSchema        `json:"items,omitempty"`
	MinItems             int              `json:"minItems,omitempty"`
	MaxItems             int              `json:"maxItems,omitempty"`
	Properties           oaMap[*oaSchema] `json:"properties,omitempty"`
	Required             []string         `json:"required,omitempty"`
	AdditionalProperties any              `json:"additionalProperties,omitempty"`
	OneOf                []*oaSchema      `json:"oneOf,omitempty"`
}

// oaMap is a JSON object whose members keep the order they were added in,
// so that a model's fields are listed in the schema's order.
type oaMap[V any] []oaMember[V]

type oaMember[V any] struct {
	key   string
	value V
}

func (m *oaMap[V]) add(key string, v V) { *m = append(*m, oaMember[V]{key, v}) }

// MarshalJSON implements json.Marshaler.
func (m oaMap[V]) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, e := range m {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, e.key)
		b = append(b, ':')
		v, err := json.Marshal(e.value)
		if err != nil {
			return nil, fmt.Errorf("openapi: member %q: %w", e.key, err)
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}
