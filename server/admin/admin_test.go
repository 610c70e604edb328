package admin_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/admin"
	"github.com/switchyard-ml/switchyard/tracking"
)

const testAdminToken = "s3cret-token"

// adminFixture is a served registry whose model "m" has version 1 (READY,
// linked to a run through the tracking store only), version 2 (READY,
// serving, its run named in its manifest) and version 3 (FAILED), and an
// audit trail of three entries.
type adminFixture struct {
	*testServer
	tr         *tracking.Store
	run1, run2 string
	trainSHA   string
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	tr, err := tracking.Open(ctx, filepath.Join(dir, "data"), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	fx := &adminFixture{tr: tr, trainSHA: strings.Repeat("ab", 32)}
	exp, err := tr.CreateExperiment(ctx, "fraud", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := tr.CreateRun(ctx, tracking.RunSpec{UserID: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := tr.CreateRun(ctx, tracking.RunSpec{ExperimentID: exp, UserID: "ben", RunName: "nightly"})
	if err != nil {
		t.Fatal(err)
	}
	fx.run1, fx.run2 = r1.Info.RunID, r2.Info.RunID
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tr.LogBatch(ctx, fx.run2, []tracking.Metric{{Key: "auc", Value: 0.91, Timestamp: 1000, Step: 1}, {Key: "loss", Value: math.NaN(), Timestamp: 1000}},
		[]tracking.Param{{Key: "lr", Value: "0.1"}}, []tracking.Tag{{Key: tracking.TagSeed, Value: "7"}}))
	must(tr.UseDataset(ctx, fx.run2, tracking.RoleTrain, tracking.Dataset{SHA256: fx.trainSHA, Path: "/data/train.csv", Rows: 10, Columns: []string{"a", "y"}}))

	reg := filepath.Join(dir, "registry")
	testenv.Publish(t, reg, "m", onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model())
	_, err = modelstore.Publish(reg, "m", onnx.RandomMLP(2, onnx.ActivationNone, 3, 2).Model().Marshal(), modelstore.PublishOptions{
		CreatedBy: "ben", Lineage: &modelstore.Lineage{RunID: fx.run2, DatasetPath: "/data/train.csv", DatasetSHA256: fx.trainSHA},
	})
	must(err)
	testenv.PlaceVersion(t, reg, "m", 3, []byte("garbage"), testenv.Manifest([]byte("garbage")))
	must(tr.LinkVersion(ctx, "m", 1, fx.run1))
	must(tr.LinkVersion(ctx, "m", 2, fx.run2))
	old := time.Now().Add(-48 * time.Hour)
	for _, e := range []tracking.Entry{
		{Time: old, Actor: "ana", Action: "publish", Model: "m", Versions: []int{1}},
		{Actor: "ben", Action: "publish", Model: "m", Versions: []int{2}, Reason: "nightly", Details: map[string]any{"run_id": fx.run2}},
		{Actor: "ana", Action: "publish", Model: "other", Versions: []int{1}},
	} {
		must(tr.Audit(ctx, e))
	}
	fx.testServer = serveRegistry(t, reg, Config{Admin: tr, Access: adminPolicy(t)})
	return fx
}

// adminPolicy guards reads and writes with testAdminToken, a write token
// called admin.
func adminPolicy(t *testing.T) *access.Policy {
	t.Helper()
	tok, err := access.NewToken("admin", access.Write, testAdminToken)
	if err != nil {
		t.Fatal(err)
	}
	p, err := access.NewPolicy([]access.Token{tok}, access.Read, access.Write)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// adminGet sends GET path with the admin token and decodes the answer.
func (ts *testServer) adminGet(t *testing.T, path, token string, out any) int {
	t.Helper()
	req, err := http.NewRequest("GET", ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: Content-Type %q", path, resp.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s = %d: %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode
}

func TestAdminModels(t *testing.T) {
	fx := newAdminFixture(t)
	var one admin.ModelJSON
	if status := fx.adminGet(t, "/admin/models/m", testAdminToken, &one); status != 200 {
		t.Fatalf("GET /admin/models/m = %d", status)
	}
	if one.Name != "m" || one.ServingVersion != 2 || len(one.Versions) != 3 {
		t.Fatalf("GET /admin/models/m = %+v; want m, serving 2, three versions", one)
	}
	f := func(v admin.VersionJSON, state string, traffic int, run, dataset string) {
		t.Helper()
		var gotRun, gotData string
		if v.Lineage != nil {
			gotRun, gotData = v.Lineage.RunID, v.Lineage.DatasetSHA256
		}
		if v.State != state || v.TrafficBP != traffic || gotRun != run || gotData != dataset || v.SHA256 == "" {
			t.Errorf("version %d = %+v (lineage %+v); want %s, %d bp, run %q, dataset %q", v.Version, v, v.Lineage, state, traffic, run, dataset)
		}
	}
	f(one.Versions[0], "READY", 0, fx.run1, "")
	f(one.Versions[1], "READY", 10000, fx.run2, fx.trainSHA)
	f(one.Versions[2], "FAILED", 0, "", "")
	if one.Versions[2].Reason == "" || one.Versions[1].CreatedBy != "ben" {
		t.Errorf("versions = %+v; want version 3's reason and version 2's creator", one.Versions)
	}
	var all admin.ModelsJSON
	if status := fx.adminGet(t, "/admin/models", testAdminToken, &all); status != 200 || len(all.Models) != 1 || all.Models[0].Name != "m" || len(all.Models[0].Versions) != 3 {
		t.Fatalf("GET /admin/models = %d %+v", status, all)
	}
	var e struct{ Error string }
	if status := fx.adminGet(t, "/admin/models/nope", testAdminToken, &e); status != 404 || !strings.Contains(e.Error, "nope") {
		t.Errorf("GET /admin/models/nope = %d %q; want 404 naming it", status, e.Error)
	}
}

func TestAdminAuditAndRuns(t *testing.T) {
	fx := newAdminFixture(t)
	audit := func(query string, want ...string) {
		t.Helper()
		var got admin.AuditJSON
		if status := fx.adminGet(t, "/admin/audit"+query, testAdminToken, &got); status != 200 {
			t.Fatalf("GET /admin/audit%s = %d", query, status)
		}
		var who []string
		for _, e := range got.Entries {
			who = append(who, e.Actor+":"+e.Model)
		}
		if strings.Join(who, " ") != strings.Join(want, " ") {
			t.Errorf("GET /admin/audit%s = %v; want %v", query, who, want)
		}
	}
	audit("", "ana:other", "ben:m", "ana:m")
	audit("?model=m", "ben:m", "ana:m")
	audit("?model=m&since=24h", "ben:m")
	audit("?since="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "ana:other", "ben:m")
	audit("?limit=1", "ana:other")
	var entries admin.AuditJSON
	fx.adminGet(t, "/admin/audit?model=m&limit=1", testAdminToken, &entries)
	if e := entries.Entries[0]; e.Reason != "nightly" || e.Details["run_id"] != fx.run2 || len(e.Versions) != 1 || e.Versions[0] != 2 || e.Time.IsZero() {
		t.Errorf("newest entry of m = %+v", e)
	}

	runs := func(query string, want ...string) {
		t.Helper()
		var got admin.RunsJSON
		if status := fx.adminGet(t, "/admin/runs"+query, testAdminToken, &got); status != 200 {
			t.Fatalf("GET /admin/runs%s = %d", query, status)
		}
		var ids []string
		for _, r := range got.Runs {
			ids = append(ids, r.Info.RunID)
		}
		if strings.Join(ids, " ") != strings.Join(want, " ") {
			t.Errorf("GET /admin/runs%s = %v; want %v", query, ids, want)
		}
	}
	runs("", fx.run2, fx.run1) // newest first, across experiments
	runs("?experiment_id=0", fx.run1)
	runs("?experiment_id=1&experiment_id=0", fx.run2, fx.run1)
	runs("?max_results=1", fx.run2)

	var r admin.RunJSON
	if status := fx.adminGet(t, "/admin/runs/"+fx.run2, testAdminToken, &r); status != 200 {
		t.Fatalf("GET /admin/runs/{id} = %d", status)
	}
	raw, _ := json.Marshal(r)
	for _, want := range []string{`"run_name":"nightly"`, `"user_id":"ben"`, `"experiment_id":"1"`, `"status":"RUNNING"`,
		`{"key":"lr","value":"0.1"}`, `{"key":"auc","value":0.91,"timestamp":1000,"step":1}`, `{"key":"loss","value":"NaN"`,
		`{"key":"switchyard.seed","value":"7"}`, `"role":"train","path":"/data/train.csv","sha256":"` + fx.trainSHA + `","rows":10,"columns":["a","y"]`,
		`"versions":[{"model":"m","version":2}]`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("GET /admin/runs/{id} = %s; want it to hold %s", raw, want)
		}
	}
	var e struct{ Error string }
	if status := fx.adminGet(t, "/admin/runs/nope", testAdminToken, &e); status != 404 {
		t.Errorf("GET /admin/runs/nope = %d %q; want 404", status, e.Error)
	}
}

func TestAdminBadRequests(t *testing.T) {
	fx := newAdminFixture(t)
	f := func(method, path, token string, status int, want string) {
		t.Helper()
		req, _ := http.NewRequest(method, fx.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct{ Error string }
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != status || !strings.Contains(e.Error, want) {
			t.Errorf("%s %s (Authorization %q) = %d %q, %v; want %d mentioning %q", method, path, token, resp.StatusCode, e.Error, err, status, want)
		}
		if status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s %s: 401 without a WWW-Authenticate: Bearer challenge", method, path)
		}
	}
	bearer := "Bearer " + testAdminToken
	for _, path := range []string{"/admin/models", "/admin/models/m", "/admin/audit", "/admin/runs", "/admin/runs/" + fx.run1} {
		f("GET", path, "", 401, "bearer token")
		f("GET", path, "Bearer wrong", 401, "bearer token")
		f("GET", path, "Bearer "+testAdminToken+"x", 401, "bearer token")
		f("GET", path, "Basic "+testAdminToken, 401, "bearer token")
		f("POST", path, bearer, 405, "not allowed")
	}
	f("GET", "/admin/audit?since=yesterday", bearer, 400, "neither a duration")
	f("GET", "/admin/audit?since=-1h", bearer, 400, "negative")
	f("GET", "/admin/audit?limit=0", bearer, 400, "not a positive integer")
	f("GET", "/admin/audit?limit=ten", bearer, 400, "not a positive integer")
	f("GET", "/admin/runs?max_results=-3", bearer, 400, "not a positive integer")
	f("GET", "/admin/runs?max_results=50001", bearer, 400, "above the limit")
	f("GET", "/admin/runs?experiment_id=x", bearer, 400, "invalid experiment id")
	f("GET", "/admin/nope", bearer, 404, "no such endpoint")
	f("GET", "/admin/models/m/versions", bearer, 404, "no such endpoint")
	f("GET", "/admin/models", "bearer  "+testAdminToken, 200, "") // the scheme is case-insensitive

	// Without a token configured the API is open; without a store, the
	// audit trail and runs are unavailable.
	open := serveRegistry(t, t.TempDir(), Config{})
	var e struct{ Error string }
	if status := open.adminGet(t, "/admin/models", "", &struct{}{}); status != 200 {
		t.Errorf("GET /admin/models on an open server = %d", status)
	}
	if status := open.adminGet(t, "/admin/audit", "", &e); status != 503 {
		t.Errorf("GET /admin/audit without a store = %d %q; want 503", status, e.Error)
	}
}
