package mlflow_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/server/internal/servertest"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestMLflowStages moves versions through MLflow's stages and checks
// that each transition changes what serves as its stage means, reads
// back, and is audited; and that every refusal changes nothing.
func TestMLflowStages(t *testing.T) {
	reg := newRegistry(t, "rollout:\n  on_publish: manual\n")
	ts := serveRecorded(t, reg, t.TempDir())
	publishClassifier(t, reg, 4, 2, 0)
	servertest.Until(t, "version 1 serving", func() bool { return ts.ServedVersion(t, "m") == "1" })
	publishClassifier(t, reg, 4, 2, 0.1)
	servertest.Until(t, "version 2 registered", func() bool { s, _, _ := ts.versionOf(t, "2"); return s == "READY" })

	transition := func(v, stage string, archive bool) map[string]any {
		t.Helper()
		body := fmt.Sprintf(`{"name":"m","version":%q,"stage":%q,"archive_existing_versions":%t}`, v, stage, archive)
		return ts.ok(t, "POST", "/api/2.0/mlflow/model-versions/transition-stage", body)["model_version"].(map[string]any)
	}
	stages := func() string {
		t.Helper()
		var got []string
		for _, v := range []string{"1", "2"} {
			mv := ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/get?name=m&version="+v, "")["model_version"].(map[string]any)
			got = append(got, v+":"+mv["current_stage"].(string))
		}
		return strings.Join(got, " ")
	}
	audited := func(want int) {
		t.Helper()
		es, err := ts.tr.AuditLog(context.Background(), tracking.AuditQuery{Model: "m", Actions: []string{"stage"}})
		if err != nil || len(es) != want {
			t.Fatalf("stage audit entries = %d, %v; want %d", len(es), err, want)
		}
		if e := es[0]; e.Actor != "mlflow-api" || !strings.Contains(e.Reason, "transition-stage") || e.Details["stage"] == nil {
			t.Fatalf("newest stage audit entry = %+v", e)
		}
	}

	// Staging: gated, no traffic; version 1 still serves.
	if mv := transition("2", "staging", false); mv["current_stage"] != "Staging" || mv["version"] != "2" {
		t.Fatalf("transition to staging = %v", mv)
	}
	if v := ts.ServedVersion(t, "m"); v != "1" {
		t.Fatalf("after Staging version %s serves; want 1", v)
	}
	audited(1)

	// Production: promoted by the model's policy (manual: at once).
	if mv := transition("2", "Production", false); mv["current_stage"] != "Production" {
		t.Fatalf("transition to Production = %v", mv)
	}
	if v := ts.ServedVersion(t, "m"); v != "2" {
		t.Fatalf("after Production version %s serves; want 2", v)
	}
	if _, _, serving := ts.versionOf(t, "2"); serving != "READY 1" {
		t.Fatalf("version 2 in Production: %s; want READY 1", serving)
	}
	audited(2)
	promotes, err := ts.tr.AuditLog(context.Background(), tracking.AuditQuery{Model: "m", Actions: []string{"promote"}})
	if err != nil || len(promotes) != 1 || promotes[0].Details["stage"] != "Production" {
		t.Fatalf("promote audit entries = %+v, %v; want the Production promote", promotes, err)
	}

	// Version 1 back to Production, archiving the others there.
	// Version 1 was drained (this server keeps none below stable): it
	// loads again, then takes the traffic.
	transition("1", "PRODUCTION", true)
	servertest.Until(t, "version 1 serving again", func() bool { return ts.ServedVersion(t, "m") == "1" })
	if got := stages(); got != "1:Production 2:Archived" {
		t.Fatalf("after archive_existing_versions: %s", got)
	}
	audited(3)
	latest := ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/get-latest-versions", `{"name":"m"}`)
	if got := servertest.JSONOf(versionsAndStages(latest["model_versions"])); got != `["1:Production","2:Archived"]` {
		t.Errorf("get-latest-versions = %s", got)
	}
	latest = ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/get-latest-versions?name=m&stages=production", "")
	if got := servertest.JSONOf(versionsAndStages(latest["model_versions"])); got != `["1:Production"]` {
		t.Errorf("get-latest-versions of Production (models:/m/Production) = %s", got)
	}
	rm := ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/get?name=m", "")["registered_model"].(map[string]any)
	if got := servertest.JSONOf(versionsAndStages(rm["latest_versions"])); got != `["1:Production","2:Archived"]` {
		t.Errorf("latest_versions = %s", got)
	}

	// Refusals: each is answered in MLflow's form and changes nothing.
	f := func(body string, status int, code, msg string) {
		t.Helper()
		got, out := ts.mlflowCall(t, "POST", "/api/2.0/mlflow/model-versions/transition-stage", body)
		if got != status || out["error_code"] != code || !strings.Contains(fmt.Sprint(out["message"]), msg) {
			t.Errorf("transition-stage %s = %d %v; want %d %s mentioning %q", body, got, out, status, code, msg)
		}
		if s := stages(); s != "1:Production 2:Archived" {
			t.Errorf("after the refused %s: %s", body, s)
		}
		if v := ts.ServedVersion(t, "m"); v != "1" {
			t.Errorf("after the refused %s version %s serves", body, v)
		}
	}
	f(`{"name":"m","version":"2","stage":"Prod","archive_existing_versions":false}`, 400, "INVALID_PARAMETER_VALUE", "Invalid Model Version stage: Prod")
	f(`{"name":"m","version":"2","stage":"Archived","archive_existing_versions":true}`, 400, "INVALID_PARAMETER_VALUE", "not an Active stage")
	f(`{"name":"m","version":"1","stage":"Archived","archive_existing_versions":false}`, 400, "INVALID_PARAMETER_VALUE", "nothing would serve in its place")
	f(`{"name":"m","version":"1","stage":"Staging","archive_existing_versions":false}`, 400, "INVALID_PARAMETER_VALUE", "nothing would serve in its place")
	f(`{"name":"m","version":"9","stage":"Staging","archive_existing_versions":false}`, 404, "RESOURCE_DOES_NOT_EXIST", "version=9")
	f(`{"name":"nope","version":"1","stage":"Staging","archive_existing_versions":false}`, 404, "RESOURCE_DOES_NOT_EXIST", "nope")
	f(`{"name":"m","version":"2","archive_existing_versions":false}`, 400, "INVALID_PARAMETER_VALUE", "'stage'")
	f(`{"name":"m","version":"two","stage":"None"}`, 400, "INVALID_PARAMETER_VALUE", "must be an integer")
	f(`{"name":"m","version":"2","stage":"None","archive_existing_versions":"yes"}`, 400, "INVALID_PARAMETER_VALUE", "")
	audited(3)

	// A canary candidate goes out of traffic when it is archived.
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/alias", `{"name":"m","alias":"challenger","version":"2"}`)
	if rt := ts.Store.Table().Route("m"); len(rt.Arms()) != 2 {
		t.Fatalf("challenger: route %+v; want a canary", rt.Arms())
	}
	if _, _, serving := ts.versionOf(t, "2"); serving == "READY 0" || !strings.HasPrefix(serving, "READY 0.") {
		t.Fatalf("version 2 as a canary: %s; want READY and a share below 1", serving)
	}
	transition("2", "Archived", false)
	if rt := ts.Store.Table().Route("m"); len(rt.Arms()) != 1 || rt.Arms()[0].Version != 1 {
		t.Fatalf("after archiving the candidate: route %+v; want version 1 alone", rt.Arms())
	}
	if rb, err := ts.tr.AuditLog(context.Background(), tracking.AuditQuery{Model: "m", Actions: []string{"rollback"}}); err != nil || len(rb) != 1 {
		t.Fatalf("rollback audit entries = %+v, %v; want the candidate's", rb, err)
	}
	// None only records the stage.
	if mv := transition("2", "None", false); mv["current_stage"] != "None" || ts.ServedVersion(t, "m") != "1" {
		t.Fatalf("transition to None = %v", mv)
	}
	audited(5)
}

// versionsAndStages lists model versions as "VERSION:STAGE".
func versionsAndStages(mvs any) []string {
	var out []string
	list, _ := mvs.([]any)
	for _, mv := range list {
		m := mv.(map[string]any)
		out = append(out, m["version"].(string)+":"+m["current_stage"].(string))
	}
	return out
}
