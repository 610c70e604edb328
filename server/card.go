package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/card"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/server/internal/openapi"
)

// The content types of a model card.
const (
	contentTypeMarkdown = "text/markdown; charset=utf-8"
	mediaMarkdown       = "text/markdown"
)

// cardTimeout bounds the tracking store's queries for one card.
const cardTimeout = 30 * time.Second

// modelCard serves GET /v1/models/{m}/versions/{v}/card: the version's
// model card (package card), as markdown, or as JSON when the request's
// Accept prefers application/json. Any version the server knows has one,
// loaded or not: it is read from the registry on disk, the tracking store
// (Config.Cards) and the gate's verdict in memory. An unknown model or
// version is a 404.
func (s *Server) modelCard(ctx *fasthttp.RequestCtx, p httpapi.Params) {
	name, n := string(p.Get("model")), p.Version()
	m := s.models.Model(name)
	if m == nil {
		httpapi.WriteError(ctx, fmt.Errorf("%w: model %q", modelstore.ErrNotFound, name))
		return
	}
	v := m.Version(n)
	if v == nil {
		httpapi.WriteError(ctx, fmt.Errorf("%w: model %q has no version %d", modelstore.ErrNotFound, name, n))
		return
	}
	src := card.Sources{Store: s.cfg.Cards, Live: liveVerdicts{s.models}}
	c, cancel := context.WithTimeout(context.Background(), cardTimeout)
	defer cancel()
	mc, err := card.Gather(c, src, name, n, v.Dir)
	if err != nil {
		httpapi.WriteError(ctx, err)
		return
	}
	ctx.Response.Header.Set("Vary", "Accept")
	if wantsJSON(ctx.Request.Header.Peek("Accept")) {
		httpapi.WriteJSON(ctx, fasthttp.StatusOK, mc)
		return
	}
	ctx.SetContentType(contentTypeMarkdown)
	ctx.Response.SetBodyRaw(mc.AppendMarkdown(nil))
}

// liveVerdicts gives a card the gate's verdict on a version the server
// holds in memory.
type liveVerdicts struct{ models Models }

// Verdict implements card.LiveVerdicts.
func (l liveVerdicts) Verdict(model string, version int) *gate.Verdict {
	m := l.models.Model(model)
	if m == nil {
		return nil
	}
	if v := m.Version(version); v != nil {
		return v.Verdict()
	}
	return nil
}

// wantsJSON reports whether an Accept header prefers application/json to
// markdown: JSON is listed with a quality above 0, above text/markdown's,
// and not below that of a wildcard (*/* or text/*). No Accept, or one a
// browser sends, gets markdown.
func wantsJSON(accept []byte) bool {
	jsonQ, markdownQ, wildQ := 0.0, -1.0, -1.0
	for r := range strings.SplitSeq(string(accept), ",") {
		mt, params, _ := strings.Cut(r, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case "application/json":
			jsonQ = max(jsonQ, q)
		case mediaMarkdown:
			markdownQ = max(markdownQ, q)
		case "*/*", "text/*":
			wildQ = max(wildQ, q)
		}
	}
	return jsonQ > 0 && jsonQ > markdownQ && jsonQ >= wildQ
}

// modelCardOp is the operation of GET /v1/models/{m}/versions/{v}/card.
func modelCardOp() *openapi.Operation {
	ok := &openapi.Response{Description: "The version's model card: markdown by default, JSON (the ModelCard schema) when Accept prefers application/json.",
		Content: map[string]openapi.Media{
			mediaMarkdown:      {Schema: &openapi.Schema{Type: openapi.TypeString}},
			"application/json": {Schema: openapi.Ref("ModelCard")},
		}}
	o := openapi.Op(tagDocs, "modelCard", "A version's model card, generated from what switchyard keeps of it", ok, "NotFound").
		WithParams(openapi.ModelParam, versionParam(0))
	o.Description = "What the version is (from its ONNX graph), its inputs, outputs, classes and feature schema, the gate's verdict " +
		"with the baseline's numbers, the run and data it was trained on, who published it and why, its rollout history from the " +
		"audit trail, and the publisher's notes (publish --note, --card). Every version on disk has one, loaded or not; a section " +
		"that cannot be filled (no tracking store, no verdict yet) says why in missing."
	return o
}

// addCardSchemas adds the ModelCard schema, the JSON of package card's
// Card, to c.
func addCardSchemas(c *openapi.Components) {
	str, integer, num, boolean := openapi.Str, &openapi.Schema{Type: openapi.TypeInteger}, &openapi.Schema{Type: openapi.TypeNumber},
		&openapi.Schema{Type: openapi.TypeBoolean}
	null := &openapi.Schema{Type: "null"}
	orNull := func(s *openapi.Schema) *openapi.Schema { return &openapi.Schema{OneOf: []*openapi.Schema{s, null}} }
	strs := func(desc string) *openapi.Schema {
		s := openapi.ArrayOf(&openapi.Schema{Type: openapi.TypeString})
		s.Description = desc
		return s
	}
	tensor := openapi.Object("An input or output.", []string{"name", "datatype", "shape"},
		openapi.Prop("name", str("")), openapi.Prop("datatype", str("The V2 datatype, such as FP32.")),
		openapi.Prop("shape", &openapi.Schema{Type: openapi.TypeArray, Items: integer, Description: "The dimensions; -1 is a dimension of any size."}))
	feature := openapi.Object("A feature of the schema, as publish --schema gives it.", []string{"name", "type", "position"},
		openapi.Prop("name", str("The field name in a record.")),
		openapi.Prop("type", &openapi.Schema{Type: openapi.TypeString, Enum: []string{modelstore.TypeNumber, modelstore.TypeInteger, modelstore.TypeCategory, modelstore.TypeBool}}),
		openapi.Prop("min", num), openapi.Prop("max", num),
		openapi.Prop("values", strs("A category's allowed values.")),
		openapi.Prop("default", &openapi.Schema{Description: "The value a record without the field gets; absent when the field is required."}),
		openapi.Prop("description", str("")), openapi.Prop("input", str("The model input it feeds; absent for the only one.")),
		openapi.Prop("encoding", str("value or one_hot.")), openapi.Prop("position", integer))
	threshold := openapi.Object("The bounds the metric was held to.", nil,
		openapi.Prop("min", num), openapi.Prop("max", num), openapi.Prop("max_regression", num), openapi.Prop("max_regression_pct", num),
		openapi.Prop("greater_is_better", boolean))
	metric := openapi.Object("One metric of the verdict.", []string{"name", "rows", "candidate", "stable", "greater_is_better", "pass"},
		openapi.Prop("name", str("Such as auc, accuracy, log_loss, rmse.")),
		openapi.Prop("slice", str("The slice, as country=FR; absent for the whole set.")),
		openapi.Prop("rows", integer),
		openapi.Prop("candidate", orNull(num)), openapi.Prop("stable", orNull(num)),
		openapi.Prop("greater_is_better", boolean), openapi.Prop("threshold", threshold), openapi.Prop("pass", boolean))
	c.Schemas.Add("ModelCard", openapi.Object("A version's model card (GET /v1/models/{model}/versions/{version}/card with Accept: application/json).",
		[]string{"model", "version", "sha256", "published", "graph", "schema", "performance", "training", "history", "notes", "card_text", "missing"},
		openapi.Prop("model", str("")), openapi.Prop("version", integer),
		openapi.Prop("sha256", str("The sha256 of the version's model.onnx.")),
		openapi.Prop("published", openapi.Object("Who published the version, when and why.", []string{"by", "actor", "reason"},
			openapi.Prop("at", str("When, RFC 3339; absent when not recorded.")),
			openapi.Prop("by", str("The creator the manifest records (publish --created-by).")),
			openapi.Prop("actor", str("Who the publish's audit entry names.")),
			openapi.Prop("reason", str("Why: the publish's audit entry's reason (publish --note).")))),
		openapi.Prop("graph", openapi.Object("What the version is.", []string{"kind", "task", "producer", "ir_version", "opsets", "operators",
			"description", "inputs", "outputs", "classes", "classes_from"},
			openapi.Prop("kind", str("The kind of model its operators make: tree ensemble, linear model, support vector machine, "+
				"convolutional neural network, recurrent neural network, multilayer perceptron, logistic regression, or unclassified.")),
			openapi.Prop("task", &openapi.Schema{Type: openapi.TypeString, Enum: []string{card.TaskClassifier, card.TaskRegressor, ""}}),
			openapi.Prop("producer", str("The tool that wrote the ONNX file, with its version.")),
			openapi.Prop("ir_version", integer),
			openapi.Prop("opsets", openapi.ArrayOf(openapi.Object("", []string{"domain", "version"},
				openapi.Prop("domain", str("Empty for the default domain, ai.onnx.")), openapi.Prop("version", integer)))),
			openapi.Prop("operators", openapi.ArrayOf(openapi.Object("How many nodes of the main graph apply an operator.", []string{"domain", "type", "count"},
				openapi.Prop("domain", str("")), openapi.Prop("type", str("")), openapi.Prop("count", integer)))),
			openapi.Prop("description", str("The ONNX model's doc string.")),
			openapi.Prop("inputs", openapi.ArrayOf(tensor)), openapi.Prop("outputs", openapi.ArrayOf(tensor)),
			openapi.Prop("classes", strs("A classifier's classes, in output order.")),
			openapi.Prop("classes_from", &openapi.Schema{Type: openapi.TypeString, Enum: []string{"manifest", "graph", ""}}))),
		openapi.Prop("schema", orNull(openapi.Object("The feature schema of the records API.", []string{"features", "unknown_fields"},
			openapi.Prop("features", openapi.ArrayOf(feature)),
			openapi.Prop("unknown_fields", &openapi.Schema{Type: openapi.TypeString, Enum: []string{modelstore.UnknownReject, modelstore.UnknownIgnore}})))),
		openapi.Prop("performance", orNull(openapi.Object("The gate's latest verdict, with the baseline's numbers.",
			[]string{"pass", "candidate", "baseline", "rows", "metrics", "reasons"},
			openapi.Prop("pass", boolean), openapi.Prop("judged_at", str("When, RFC 3339; absent for a verdict only in memory.")),
			openapi.Prop("candidate", str("The version judged.")), openapi.Prop("baseline", str("The version it was compared with; empty when none served.")),
			openapi.Prop("rows", integer), openapi.Prop("metrics", openapi.ArrayOf(metric)), openapi.Prop("reasons", strs(""))))),
		openapi.Prop("training", orNull(openapi.Object("The run that produced the version, and its data.",
			[]string{"run_id", "run_name", "experiment_id", "status", "user", "code_revision", "seed", "datasets", "params", "metrics"},
			openapi.Prop("run_id", str("")), openapi.Prop("run_name", str("")), openapi.Prop("experiment_id", str("")),
			openapi.Prop("status", str("Empty when the run is not in the tracking store.")), openapi.Prop("user", str("")),
			openapi.Prop("code_revision", str("")), openapi.Prop("seed", str("")),
			openapi.Prop("datasets", openapi.ArrayOf(openapi.Object("A data version, training data first.", []string{"role", "path", "sha256", "rows", "columns"},
				openapi.Prop("role", &openapi.Schema{Type: openapi.TypeString, Enum: []string{"train", "eval"}}),
				openapi.Prop("path", str("")), openapi.Prop("sha256", str("")),
				openapi.Prop("rows", orNull(integer)), openapi.Prop("columns", orNull(strs("")))))),
			openapi.Prop("params", openapi.ArrayOf(openapi.Object("", []string{"key", "value"}, openapi.Prop("key", str("")), openapi.Prop("value", str(""))))),
			openapi.Prop("metrics", openapi.ArrayOf(openapi.Object("", []string{"key", "value"}, openapi.Prop("key", str("")), openapi.Prop("value", orNull(num)))))))),
		openapi.Prop("history", openapi.ArrayOf(openapi.Object("An audit entry that names the version, oldest first.",
			[]string{"time", "actor", "action", "versions", "reason"},
			openapi.Prop("time", str("RFC 3339.")), openapi.Prop("actor", str("")), openapi.Prop("action", str("Such as publish, gate_pass, promote, advance, rollback.")),
			openapi.Prop("versions", &openapi.Schema{Type: openapi.TypeArray, Items: integer}), openapi.Prop("reason", str(""))))),
		openapi.Prop("notes", str("What the publisher wrote with publish --note.")),
		openapi.Prop("card_text", str("The markdown the publisher wrote with publish --card FILE.")),
		openapi.Prop("missing", openapi.ArrayOf(openapi.Object("Why a section is empty or partial.", []string{"section", "reason"},
			openapi.Prop("section", &openapi.Schema{Type: openapi.TypeString, Enum: []string{card.SectionGraph, card.SectionSchema,
				card.SectionPerformance, card.SectionTraining, card.SectionHistory, card.SectionCardText}}),
			openapi.Prop("reason", str("")))))))
}
