package admin

import (
	"strings"

	"github.com/switchyard-ml/switchyard/server/internal/openapi"
)

// tagAdmin is the tag of the API's operations in the server's OpenAPI
// document.
const tagAdmin = "Operations"

var tags = []openapi.Tag{{Name: tagAdmin,
	Description: "Rollouts, the audit trail and training runs. With tokens configured (serve --tokens), every write needs Authorization: Bearer TOKEN with a write token, and reads need one too under serve --auth read."}}

// addComponents adds the schemas, responses and security scheme the API's
// operations refer to.
func addComponents(c *openapi.Components) {
	c.Responses["Unauthorized"] = openapi.ErrorResponse("The request needs a valid bearer token: Authorization: Bearer TOKEN.")
	c.SecuritySchemes = map[string]openapi.SecurityScheme{"adminToken": {Type: "http", Scheme: "bearer",
		Description: "One of the tokens the server was started with (serve --tokens FILE or $SWITCHYARD_TOKENS); without any, the API is open."}}
	c.Schemas.Add("ActionRequest", openapi.Object("", []string{"reason"},
		openapi.Prop("version", &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(1), Description: "The version to promote (promote only)."}),
		openapi.Prop("strategy", openapi.Str("How to promote: bluegreen (the default), canary, shadow or manual (promote only).")),
		openapi.Prop("reason", openapi.Str("Why, for the audit trail.")),
		openapi.Prop("actor", openapi.Str("Who, for the audit trail; admin-api when absent.")),
		openapi.Prop("force", &openapi.Schema{Type: openapi.TypeBoolean, Description: "Route the version although it failed its gate (promote only)."})))
	num := func(desc string) *openapi.Schema {
		return &openapi.Schema{Type: openapi.TypeNumber, Minimum: openapi.Bound(0), Description: desc}
	}
	cost := openapi.Object("What this load of the version has cost since it loaded (docs/operating.md#cost-per-prediction); absent for a version not in memory.",
		[]string{"compute_seconds", "predictions", "seconds_per_prediction"},
		openapi.Prop("compute_seconds", num("The wall time of the version's model runs plus its share, by requests, of the rest of the process's CPU time.")),
		openapi.Prop("predictions", &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(0), Description: "Rows of the batches that succeeded."}),
		openapi.Prop("seconds_per_prediction", num("compute_seconds over predictions; 0 before the first.")),
		openapi.Prop("dollars_per_1k", num("What 1,000 predictions cost at the price per core-hour; absent without a price or before the first prediction.")))
	cost.AdditionalProperties = false
	c.Schemas.Add("VersionCost", cost)
	c.Schemas.Add("AdminModel", openapi.Object("A model: its versions with state, reason, traffic share, gate verdict, lineage, live figures and cost, its rollout state and the controller's last analysis.",
		[]string{"name", "versions"},
		openapi.Prop("name", openapi.Str("The model's name.")),
		openapi.Prop("versions", openapi.ArrayOf(openapi.Object("", []string{"version", "state", "traffic_bp"},
			openapi.Prop("version", &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(1)}),
			openapi.Prop("state", openapi.Str("LOADING, GATING, READY, DRAINING, UNLOADED or FAILED.")),
			openapi.Prop("traffic_bp", &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(0), Maximum: openapi.Bound(10000),
				Description: "The version's share of the requests that name no version, in basis points."}),
			openapi.Prop("cost", openapi.Ref("VersionCost")))))))
}

// op returns an operation of the API: its answer is a JSON object
// described by desc, and it takes either no token (the server has none)
// or the bearer token.
func op(id, summary, desc string, params ...openapi.Parameter) *openapi.Operation {
	return opOf(id, summary, desc, &openapi.Schema{Type: openapi.TypeObject}, params...)
}

// opOf is op with the answer's schema.
func opOf(id, summary, desc string, answer *openapi.Schema, params ...openapi.Parameter) *openapi.Operation {
	o := openapi.Op(tagAdmin, id, summary, openapi.JSONOK(desc, answer), "BadRequest", "Unauthorized", "NotFound", "Unavailable")
	o.Parameters, o.Security = params, []map[string][]string{{}, {"adminToken": {}}}
	return o
}

// query returns a query parameter.
func query(name, desc string, s *openapi.Schema) openapi.Parameter {
	return openapi.Parameter{Name: name, In: "query", Description: desc, Schema: s}
}

func modelsOp() *openapi.Operation {
	return opOf("adminModels", "Every model with its versions and rollout",
		"models: each model's versions with state, reason, traffic share, gate verdict, lineage and cost, its rollout state and the controller's last analysis.",
		openapi.Object("", []string{"models"}, openapi.Prop("models", openapi.ArrayOf(openapi.Ref("AdminModel")))))
}

func modelOp() *openapi.Operation {
	return opOf("adminModel", "One model with its versions and rollout", "The model as /admin/models lists it.", openapi.Ref("AdminModel"), openapi.ModelParam)
}

// actionOp is the operation of POST /admin/models/{model}/VERB.
func actionOp(verb, summary string) *openapi.Operation {
	return op("admin"+strings.ToUpper(verb[:1])+verb[1:], summary,
		"model, action and the rollout state that now routes the model's requests.", openapi.ModelParam).
		WithBody(openapi.Ref("ActionRequest"), true)
}

func auditOp() *openapi.Operation {
	return op("adminAudit", "The audit trail, newest first", "entries: who did what, when and why.",
		query("model", "Only this model's entries.", &openapi.Schema{Type: openapi.TypeString}),
		query("since", "A duration back from now (24h) or an RFC 3339 time.", &openapi.Schema{Type: openapi.TypeString}),
		query("limit", "At most this many entries.", &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(1)}))
}

func runsOp() *openapi.Operation {
	explode := true
	return op("adminRuns", "The most recent active training runs, newest first",
		"runs: each run with its params, metrics and the versions it produced.",
		openapi.Parameter{Name: "experiment_id", In: "query", Description: "Only these experiments' runs; repeat it for several.",
			Explode: &explode, Schema: openapi.ArrayOf(&openapi.Schema{Type: openapi.TypeString})},
		query("max_results", "At most this many runs (100 when absent).", &openapi.Schema{Type: openapi.TypeInteger, Minimum: openapi.Bound(1)}))
}

func runOp() *openapi.Operation {
	return op("adminRun", "One training run with its lineage", "The run and the versions it produced.",
		openapi.Parameter{Name: "run_id", In: "path", Required: true, Description: "The tracking run's id.", Schema: &openapi.Schema{Type: openapi.TypeString}})
}
