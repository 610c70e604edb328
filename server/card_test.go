package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/card"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// serveCardModels serves, without a tracking store, three versions of
// "m", each a logistic regression published with an evaluation set, a
// note and a card text, and returns once the newest has been judged.
func serveCardModels(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	for i, w := range []float32{3, 2, 1} {
		model := (&onnx.LogReg{Weights: []float32{w, 0, 0}, Bias: []float32{0}}).Model().Marshal()
		_, err := modelstore.Publish(dir, "m", model, modelstore.PublishOptions{CreatedBy: "ci", Description: "weight " + string(rune('3'-i)),
			Card: []byte("Intended for tests only.\n"), EvalCSV: []byte("a,b,c,y\n1,0,0,1\n-1,0,0,0\n2,1,0,1\n-2,1,0,0\n"), EvalLabel: "y"})
		if err != nil {
			t.Fatal(err)
		}
	}
	ts := serveRegistry(t, dir, Config{})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if m := ts.store.Model("m"); m != nil && m.Version(3) != nil && m.Version(3).Verdict() != nil {
			return ts
		}
		if time.Now().After(deadline) {
			t.Fatal("version 3 was never judged")
		}
	}
}

// getCard asks for a card with the Accept header accept.
func (ts *testServer) getCard(t *testing.T, path, accept string) response {
	t.Helper()
	req, err := http.NewRequest("GET", ts.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	r, err := ts.send(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestModelCardSuccess: a card is markdown by default and JSON, as
// /openapi.json describes it, when Accept asks; without a tracking store
// its verdict is the server's in memory and it says what it lacks; a
// version not in memory has one too, read from disk.
func TestModelCardSuccess(t *testing.T) {
	ts := serveCardModels(t)
	verdict := ts.store.Model("m").Version(3).Verdict()

	for _, accept := range []string{"", "text/markdown", "text/html,application/xhtml+xml,*/*;q=0.8", "application/json;q=0.5, text/markdown"} {
		r := ts.getCard(t, "/v1/models/m/versions/3/card", accept)
		if r.status != 200 || r.header.Get("Content-Type") != "text/markdown; charset=utf-8" || r.header.Get("Vary") != "Accept" {
			t.Fatalf("GET card (Accept %q) = %d %v\n%s", accept, r.status, r.header, r.body)
		}
		for _, want := range []string{"# Model card: m version 3\n", "published ", " by ci\n", "A logistic regression classifier",
			"The gate passed " + verdict.Candidate + ", against " + verdict.Stable + ", the baseline that served then,",
			"## Notes\n\nweight 1\n", "Intended for tests only.\n",
			"_Not known: no tracking store holds the gate's verdicts, and the server has not judged it since it started._"} {
			if strings.Contains(want, "Not known") {
				if strings.Contains(string(r.body), want) {
					t.Errorf("GET card says %q although the server judged the version", want)
				}
				continue
			}
			if !strings.Contains(string(r.body), want) {
				t.Errorf("GET card (Accept %q) lacks %q:\n%s", accept, want, r.body)
			}
		}
		if !strings.Contains(string(r.body), "_Not known: no tracking store holds the audit trail._") {
			t.Errorf("GET card does not say the audit trail is missing:\n%s", r.body)
		}
	}

	v, _ := ts.openAPIValidator(t, "/openapi.json")
	for _, accept := range []string{"application/json", "application/json, */*", "text/markdown;q=0.5, application/json"} {
		r := ts.getCard(t, "/v1/models/m/versions/3/card", accept)
		if r.status != 200 || r.header.Get("Content-Type") != httpapi.ContentTypeJSON {
			t.Fatalf("GET card (Accept %q) = %d %v\n%s", accept, r.status, r.header, r.body)
		}
		req := httptest.NewRequest("GET", "/v1/models/m/versions/3/card", nil)
		req.Header.Set("Accept", accept)
		resp := &http.Response{StatusCode: r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.body))}
		if ok, errs := v.ValidateHttpResponse(req, resp); !ok {
			t.Fatalf("the card's JSON is not what /openapi.json describes:\n%s\n%s", validationText(errs), r.body)
		}
		var c card.Card
		if err := json.Unmarshal(r.body, &c); err != nil {
			t.Fatal(err)
		}
		sections := map[string]bool{}
		for _, m := range c.Missing {
			sections[m.Section] = true
		}
		switch p := c.Performance; {
		case p == nil || p.Pass != verdict.Pass || p.Baseline != verdict.Stable || len(p.Metrics) != len(verdict.Metrics) || !p.JudgedAt.IsZero():
			t.Errorf("card JSON performance = %+v; want the verdict in memory %+v", p, verdict)
		case c.Graph.Kind != "logistic regression" || c.Graph.Task != card.TaskClassifier || len(c.Graph.Inputs) != 1 || c.CardText != "Intended for tests only.\n":
			t.Errorf("card JSON = %+v", c)
		case !sections[card.SectionHistory] || !sections[card.SectionTraining] || !sections[card.SectionSchema] || sections[card.SectionPerformance]:
			t.Errorf("card JSON missing = %+v; want history, training and schema, not performance", c.Missing)
		}
	}

	// Version 1 is no longer in memory (it serves no more and is not the
	// one kept for rollback): its card is read from disk.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		st := ts.store.Model("m").Version(1).State()
		if st != modelstore.Ready && st != modelstore.Draining && st != modelstore.Loading && st != modelstore.Gating {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("version 1 stays %s", st)
		}
	}
	r := ts.getCard(t, "/v1/models/m/versions/1/card", "")
	if r.status != 200 || !strings.Contains(string(r.body), "# Model card: m version 1\n") || !strings.Contains(string(r.body), "## Notes\n\nweight 3\n") {
		t.Fatalf("GET the card of version 1 = %d\n%s", r.status, r.body)
	}
}

func TestModelCardFailure(t *testing.T) {
	ts := serveCardModels(t)
	f := func(path string, status int, want string) {
		t.Helper()
		r := ts.getCard(t, path, "")
		if r.status != status || r.header.Get("Content-Type") != httpapi.ContentTypeJSON || !strings.Contains(string(r.body), want) {
			t.Fatalf("GET %s = %d %s; want %d with %q", path, r.status, r.body, status, want)
		}
	}
	f("/v1/models/nope/versions/1/card", 404, `model \"nope\"`)
	f("/v1/models/m/versions/9/card", 404, `no version 9`)
	f("/v1/models/m/versions/0/card", 404, "not a positive integer")
	f("/v1/models/m/versions/x/card", 404, "not a positive integer")
	if r := ts.do(t, "POST", "/v1/models/m/versions/1/card", "{}"); r.status != 405 {
		t.Fatalf("POST card = %d, want 405", r.status)
	}
}

func TestWantsJSON(t *testing.T) {
	f := func(accept string, want bool) {
		t.Helper()
		if got := wantsJSON([]byte(accept)); got != want {
			t.Errorf("wantsJSON(%q) = %v; want %v", accept, got, want)
		}
	}
	f("", false)
	f("*/*", false)
	f("text/markdown", false)
	f("application/json", true)
	f("Application/JSON", true)
	f("application/json, */*", true)
	f("application/json;q=0.5, */*", false)
	f("application/json, text/markdown", false)
	f("text/markdown;q=0.1, application/json", true)
	f("application/json;q=0", false)
	f("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false)
}
