package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/server/internal/openapi"
)

// modelOpenAPI serves GET /v1/models/{m}/openapi.json: the OpenAPI
// document of the model's records API, generated from the feature schema
// of the version that serves the model (the one GET /v2/models/{m}
// describes, named in X-Model-Version). A model without a schema is a
// 404, one with no version serving a 503. The document is built per
// request: it is a few kilobytes, built in tens of microseconds.
func (s *Server) modelOpenAPI(ctx *fasthttp.RequestCtx, p httpapi.Params) {
	v, err := s.models.Lookup(string(p.Get("model")), 0)
	if err != nil {
		httpapi.WriteError(ctx, err)
		return
	}
	doc, err := modelDocument(v)
	if err != nil {
		httpapi.WriteError(ctx, fmt.Errorf("openapi of model %q: %w", v.Model, err))
		return
	}
	ctx.Response.Header.Set("X-Model-Version", v.Label)
	httpapi.WriteJSON(ctx, fasthttp.StatusOK, doc)
}

// problemCodes lists the problem codes of the records API's 422.
var problemCodes = []string{problemMissing, problemType, problemRange, problemNotAllowed, problemUnknown, problemNotFinite}

// modelDocument returns the OpenAPI document of v's records API. It wraps
// errNoRecords when v serves none.
func modelDocument(v *modelstore.Version) (*openapi.Doc, error) {
	sch, err := recordSchemaOf(v)
	if err != nil {
		return nil, err
	}
	instance, err := instanceSchema(&sch)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", v.Label, err)
	}
	example, fromEval := exampleRecord(v.Dir, &sch)
	exampleFrom := "The example record holds a value each feature allows."
	if fromEval {
		exampleFrom = "The example record is the first row of the version's evaluation set (eval.csv)."
	}
	doc := &openapi.Doc{
		OpenAPI: openapi.Version,
		Info: openapi.Info{
			Title:   "switchyard: model " + v.Model,
			Version: v.Label,
			Description: fmt.Sprintf("The records API of model %s, generated from the feature schema of version %s, "+
				"the version that serves the model now. A request that names another version is checked "+
				"against that version's schema, which may differ. %s The whole server's API is at /openapi.json.",
				v.Model, v.Label, exampleFrom),
		},
		Components: recordsComponents(instance, predictionSchema(sch.classes, sch.width), problemsExample(&sch, example)),
	}
	reqExample := map[string]any{"instances": []any{example}}
	modelPath := "/v1/models/" + v.Model
	doc.Paths.Add(modelPath+":predict", &openapi.PathItem{Post: predictOperation("predict",
		"Predict with the version the model's routing picks", nil, reqExample)})
	doc.Paths.Add(modelPath+"/versions/{version}:predict", &openapi.PathItem{Post: predictOperation("predictVersion",
		"Predict with one version of the model", []openapi.Parameter{versionParam(v.Number)}, reqExample)})
	return doc, nil
}

// instanceSchema returns the schema of one record of sch, its fields in
// schema order.
func instanceSchema(sch *recordSchema) (*openapi.Schema, error) {
	inst := &openapi.Schema{Type: openapi.TypeObject, Description: "One record: its fields are the model's features. " +
		"A field that is absent or null takes its default.", Required: []string{}}
	for i := range sch.features {
		f := &sch.features[i]
		fs, err := featureSchema(f)
		if err != nil {
			return nil, err
		}
		inst.Properties.Add(f.Name, fs)
		if f.Default == nil {
			inst.Required = append(inst.Required, f.Name)
		}
	}
	if sch.ignoreUnknown {
		inst.Description += " Fields the schema does not name are ignored."
	} else {
		inst.AdditionalProperties = false
		inst.Description += ` A field the schema does not name is refused (problem "unknown").`
	}
	return inst, nil
}

// featureSchema returns the JSON Schema of feature f's values.
func featureSchema(f *modelstore.Feature) (*openapi.Schema, error) {
	s := &openapi.Schema{Description: f.Description, Minimum: f.Min, Maximum: f.Max, Default: f.Default}
	switch f.Type {
	case modelstore.TypeNumber:
		s.Type = openapi.TypeNumber
	case modelstore.TypeInteger:
		s.Type = openapi.TypeInteger
	case modelstore.TypeCategory:
		if len(f.Values) == 0 {
			return nil, fmt.Errorf("feature %q: a category without values", f.Name)
		}
		s.Type, s.Enum = openapi.TypeString, f.Values
	case modelstore.TypeBool:
		s.Type = openapi.TypeBoolean
	default:
		return nil, fmt.Errorf("feature %q: unknown type %q", f.Name, f.Type)
	}
	return s, nil
}

// exampleValue returns a value feature f allows, for the example request
// when the version has no evaluation set: its default, else the number in
// its range nearest 0, the first of a category's values, false. f's type
// has been checked by featureSchema.
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
func problemsExample(sch *recordSchema, example openapi.Map[any]) json.RawMessage {
	bad := make(openapi.Map[any], 0, len(example)+1)
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
		bad.Add("not_a_field", 1)
	case !dropped:
		bad[0].Value = "?"
		if sch.features[0].Type == modelstore.TypeCategory {
			bad[0].Value = 0
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
	return pe.AppendJSON(nil)
}

// predictionSchema returns the schema of one prediction of a model whose
// output has width columns per row: a regressor's value (width 1), or a
// classifier's label and probabilities by class name, the names being
// classes or, without them, "0", "1", ... as the records API answers.
func predictionSchema(classes []string, width int) *openapi.Schema {
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
	probs := &openapi.Schema{Type: openapi.TypeObject, Description: "The probability of each class, by class name.", Required: names}
	for _, c := range names {
		probs.Properties.Add(c, &openapi.Schema{Type: openapi.TypeNumber, Minimum: openapi.Bound(0), Maximum: openapi.Bound(1)})
	}
	p := &openapi.Schema{Type: openapi.TypeObject, Description: "A classifier's prediction for one instance.",
		Required: []string{"label", "probabilities"}}
	p.Properties.Add("label", &openapi.Schema{Type: openapi.TypeString, Enum: names, Description: "The most probable class."})
	p.Properties.Add("probabilities", probs)
	return p
}

// regressionSchema is the schema of a regressor's prediction.
func regressionSchema() *openapi.Schema {
	p := &openapi.Schema{Type: openapi.TypeObject, Description: "A regressor's prediction for one instance.", Required: []string{"value"}}
	p.Properties.Add("value", &openapi.Schema{Type: openapi.TypeNumber, Description: "The predicted value."})
	return p
}

// recordsComponents returns the components of the records API: the
// schemas of its request, answer and errors, with instance and prediction
// as the schemas of one record and one prediction, and the responses the
// operations refer to, the 422 with invalidExample as its example (none
// when empty).
func recordsComponents(instance, prediction *openapi.Schema, invalidExample json.RawMessage) openapi.Components {
	req := &openapi.Schema{Type: openapi.TypeObject, Required: []string{"instances"}, AdditionalProperties: false}
	req.Properties.Add("instances", &openapi.Schema{Type: openapi.TypeArray, Items: openapi.Ref("Instance"), MinItems: 1, MaxItems: MaxInstances,
		Description: "The records to predict, answered in the same order."})

	resp := &openapi.Schema{Type: openapi.TypeObject, Required: []string{"model_name", "model_version", "predictions", "prediction_ids"}}
	resp.Properties.Add("model_name", &openapi.Schema{Type: openapi.TypeString})
	resp.Properties.Add("model_version", &openapi.Schema{Type: openapi.TypeString, Description: "The version that answered."})
	resp.Properties.Add("predictions", &openapi.Schema{Type: openapi.TypeArray, Items: openapi.Ref("Prediction"),
		Description: "One prediction per instance, in order."})
	resp.Properties.Add("prediction_ids", &openapi.Schema{Type: openapi.TypeArray, Items: &openapi.Schema{Type: openapi.TypeString},
		Description: "One id per prediction, unique, for the feedback API."})

	problem := &openapi.Schema{Type: openapi.TypeObject, Required: []string{"instance", "field", "problem", "message"}}
	problem.Properties.Add("instance", &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(0), Description: "The index of the instance in instances."})
	problem.Properties.Add("field", &openapi.Schema{Type: openapi.TypeString, Description: "The field the problem is about."})
	problem.Properties.Add("problem", &openapi.Schema{Type: openapi.TypeString, Enum: problemCodes, Description: "What kind of problem, " +
		"a code that never changes. missing: a field without a default is absent or null; type: a value of the wrong JSON type, " +
		"or an integer that is not whole; range: a number outside min and max, or an integer the model's input type cannot hold; " +
		"not_allowed: a category value not among its values; unknown: a field the schema does not name; " +
		"not_finite: NaN, an infinity, or a number too large for the model's float input."})
	problem.Properties.Add("message", &openapi.Schema{Type: openapi.TypeString, Description: "The problem in words, naming the field and the value."})

	invalid := &openapi.Schema{Type: openapi.TypeObject, Required: []string{"error", "problems"},
		Description: "Every problem of every instance, by instance then field; nothing was sent to the model."}
	invalid.Properties.Add("error", &openapi.Schema{Type: openapi.TypeString, Description: `A summary, such as "2 problems in 2 instances".`})
	invalid.Properties.Add("problems", &openapi.Schema{Type: openapi.TypeArray, Items: openapi.Ref("Problem")})

	c := commonComponents()
	c.Schemas.Add("Instance", instance)
	c.Schemas.Add("PredictRequest", req)
	c.Schemas.Add("Prediction", prediction)
	c.Schemas.Add("PredictResponse", resp)
	c.Schemas.Add("Problem", problem)
	c.Schemas.Add("ValidationError", invalid)
	media := openapi.Media{Schema: openapi.Ref("ValidationError")}
	if len(invalidExample) > 0 {
		media.Example = invalidExample
	}
	c.Responses["ValidationFailed"] = &openapi.Response{Description: "The instances break the feature schema: every problem is listed.",
		Content: map[string]openapi.Media{httpapi.ContentTypeJSON: media}}
	return c
}

// commonComponents returns the Error schema and the error responses every
// endpoint outside MLflow's API shares.
func commonComponents() openapi.Components {
	errSchema := &openapi.Schema{Type: openapi.TypeObject, Required: []string{"error"}}
	errSchema.Properties.Add("error", &openapi.Schema{Type: openapi.TypeString, Description: "What went wrong."})
	c := openapi.Components{Responses: map[string]*openapi.Response{}}
	c.Schemas.Add("Error", errSchema)
	for name, desc := range map[string]string{
		"BadRequest": "The request is malformed; error says how.",
		"NotFound":   "No such model, version or endpoint.",
		"TooLarge":   "The body is larger than the server's limit.",
		"Timeout":    "The deadline passed before the model ran.",
	} {
		c.Responses[name] = openapi.ErrorResponse(desc)
	}
	unavailable := openapi.ErrorResponse("Not ready to serve it, or the queue is full: retry after Retry-After seconds.")
	unavailable.Headers = map[string]openapi.Header{"Retry-After": {Description: "Seconds to wait before retrying.", Schema: &openapi.Schema{Type: openapi.TypeInteger}}}
	c.Responses["Unavailable"] = unavailable
	return c
}

// predictOperation returns a predict operation with the request example
// reqExample (nil for none).
func predictOperation(id, summary string, params []openapi.Parameter, reqExample any) *openapi.Operation {
	return &openapi.Operation{
		Tags:        []string{tagRecords},
		OperationID: id,
		Summary:     summary,
		Description: "Validates every instance against the feature schema before anything is queued, then runs " +
			"them through the same routing, batching and metrics as the V2 API.",
		Parameters: append(params, routingKeyParam, timeoutParam),
		RequestBody: &openapi.RequestBody{Required: true, Content: map[string]openapi.Media{
			httpapi.ContentTypeJSON: {Schema: openapi.Ref("PredictRequest"), Example: reqExample},
		}},
		Responses: map[string]*openapi.Response{
			"200": {Description: "One prediction per instance.", Headers: modelVersionHeader(),
				Content: map[string]openapi.Media{httpapi.ContentTypeJSON: {Schema: openapi.Ref("PredictResponse")}}},
			"400": openapi.RefResponse("BadRequest"),
			"404": openapi.RefResponse("NotFound"),
			"413": openapi.RefResponse("TooLarge"),
			"422": openapi.RefResponse("ValidationFailed"),
			"503": openapi.RefResponse("Unavailable"),
			"504": openapi.RefResponse("Timeout"),
		},
	}
}

// The request headers of both inference APIs.
var (
	routingKeyParam = openapi.Parameter{Name: routingKeyHeader, In: "header", Schema: &openapi.Schema{Type: openapi.TypeString},
		Description: "Keeps requests with the same key on the same arm of a canary."}
	timeoutParam = openapi.Parameter{Name: timeoutHeader, In: "header", Schema: &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(0)},
		Description: "How long the request may wait before it runs, in milliseconds; it takes precedence over a V2 request's parameters.timeout and the model's default."}
)

// modelVersionHeader describes the X-Model-Version response header.
func modelVersionHeader() map[string]openapi.Header {
	return map[string]openapi.Header{"X-Model-Version": {Description: "The version that answered.", Schema: &openapi.Schema{Type: openapi.TypeString}}}
}

// versionParam is the {version} path parameter; example is a version
// that serves, or 0 for none.
func versionParam(example int) openapi.Parameter {
	p := openapi.Parameter{Name: "version", In: "path", Required: true, Description: "The version number.",
		Schema: &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(1)}}
	if example > 0 {
		p.Example = example
	}
	return p
}
