package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMLflowClientReplay replays what the real MLflow 2.11 Python client
// sent while it ran scripts/mlflow-client's training and registry scripts
// against switchyard serve (recorded by scripts/mlflow-client/record.py;
// see docs/tracking.md), in order, to a fresh server with the product's
// defaults. Each answer must have the status the client got then, the
// shape MLflow's protos define for that endpoint (protos.json, dumped
// from MLflow's own descriptors by protos.py), and the same content,
// once the ids the server makes afresh (run ids) are mapped and the
// clock's fields are masked. A recorded run of identical reads (a client
// polling a version's status) is replayed as one read that is repeated
// until it answers what the last of them did.
func TestMLflowClientReplay(t *testing.T) {
	protos := readProtos(t, "testdata/mlflow-client/protos.json")
	exchanges := readExchanges(t, "testdata/mlflow-client/session.jsonl")
	reg := t.TempDir()
	addr := serve(t, "--registry", reg)
	r := &replayer{base: "http://" + addr, protos: protos, ids: map[string]string{}}
	for i := 0; i < len(exchanges); i++ {
		ex := exchanges[i]
		if ex.Step == "policy" {
			// The session gave the model its policy here, as a team
			// commits policy.yaml to the registry, and waited a second.
			copyFile(t, "../../scripts/mlflow-client/policy.yaml", filepath.Join(reg, "fraud", "policy.yaml"))
			time.Sleep(time.Second)
			continue
		}
		// Of identical consecutive reads, the client was polling: only the
		// last one's answer is the one to reach.
		if ex.Method == "GET" && i+1 < len(exchanges) && exchanges[i+1].sameRequest(ex) {
			continue
		}
		if err := r.replay(ex); err != nil {
			t.Fatalf("exchange %d, %s %s: %v", i+1, ex.Method, ex.Path, err)
		}
	}
}

// exchange is one request the client made and the answer it got, as
// record.py writes it, or a step the session took between requests.
type exchange struct {
	Step        string          `json:"step"`
	Method      string          `json:"method"`
	Path        string          `json:"path"`
	ContentType string          `json:"content_type"`
	Body        json.RawMessage `json:"body"`
	BodyB64     string          `json:"body_b64"`
	Status      int             `json:"status"`
	Response    json.RawMessage `json:"response"`
	ResponseB64 string          `json:"response_b64"`
}

func (e exchange) sameRequest(o exchange) bool {
	return e.Method == o.Method && e.Path == o.Path && bytes.Equal(e.Body, o.Body) && e.BodyB64 == o.BodyB64
}

func readExchanges(t *testing.T, path string) []exchange {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []exchange
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var e exchange
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s:%d: %v", path, len(out)+1, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no exchanges", path)
	}
	return out
}

// protoSpec is what protos.py dumps of MLflow's REST API.
type protoSpec struct {
	Endpoints []struct {
		Method, Path, Request, Response string
	} `json:"endpoints"`
	Messages map[string]map[string]protoField `json:"messages"`
	Enums    map[string][]string              `json:"enums"`
}

// protoField is one field of a message: a scalar type, an enum or a
// message, repeated or not.
type protoField struct {
	Repeated bool   `json:"repeated"`
	Type     string `json:"type"`
	Enum     string `json:"enum"`
	Message  string `json:"message"`
}

func readProtos(t *testing.T, path string) *protoSpec {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p protoSpec
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &p
}

// response names the message MLflow answers method path with, "" for an
// endpoint MLflow does not define (switchyard's own) or one that answers
// a file.
func (p *protoSpec) response(method, path string) string {
	path, _, _ = strings.Cut(path, "?")
	path = strings.TrimPrefix(path, "/api/2.0")
	for _, ep := range p.Endpoints {
		if ep.Method != method {
			continue
		}
		if prefix, ok := strings.CutSuffix(ep.Path, "<path:artifact_path>"); ok {
			if strings.HasPrefix(path, prefix) && method != "GET" {
				return ep.Response
			}
			continue
		}
		if ep.Path == path {
			return ep.Response
		}
	}
	return ""
}

// check reports where v departs from the JSON form of message msg:
// a field the message lacks, or a value of the wrong type.
func (p *protoSpec) check(at string, v any, msg string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %T, want a %s object", at, v, msg)
	}
	fields := p.Messages[msg]
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		f, ok := fields[k]
		if !ok {
			return fmt.Errorf("%s.%s: %s has no field %q", at, k, msg, k)
		}
		vals := []any{obj[k]}
		if f.Repeated {
			list, ok := obj[k].([]any)
			if !ok {
				return fmt.Errorf("%s.%s: %T, want a list", at, k, obj[k])
			}
			vals = list
		}
		for i, x := range vals {
			if err := p.checkValue(fmt.Sprintf("%s.%s[%d]", at, k, i), x, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkError reports where v departs from MLflow's error answer:
// {"error_code": one of databricks.ErrorCode, "message": "..."}.
func (p *protoSpec) checkError(v any) error {
	obj, ok := v.(map[string]any)
	code, _ := obj["error_code"].(string)
	msg, _ := obj["message"].(string)
	if !ok || len(obj) != 2 || !slices.Contains(p.Enums["ErrorCode"], code) || msg == "" {
		return fmt.Errorf("error answer %v is not {error_code, message} with a code of databricks.ErrorCode", v)
	}
	return nil
}

func (p *protoSpec) checkValue(at string, x any, f protoField) error {
	switch {
	case f.Message != "":
		return p.check(at, x, f.Message)
	case f.Enum != "":
		s, ok := x.(string)
		if !ok || !slices.Contains(p.Enums[f.Enum], s) {
			return fmt.Errorf("%s: %v is not a value of %s %v", at, x, f.Enum, p.Enums[f.Enum])
		}
		return nil
	}
	ok := false
	switch f.Type {
	case "string", "bytes":
		_, ok = x.(string)
	case "bool":
		_, ok = x.(bool)
	case "int64", "int32":
		n, isNum := x.(float64)
		ok = isNum && n == math.Trunc(n)
	case "number":
		switch n := x.(type) {
		case float64:
			ok = true
		case string:
			ok = n == "NaN" || n == "Infinity" || n == "-Infinity"
		}
	}
	if !ok {
		return fmt.Errorf("%s: %#v is not a JSON %s", at, x, f.Type)
	}
	return nil
}

// replayer sends recorded requests to a server and checks its answers.
type replayer struct {
	base   string
	protos *protoSpec
	// ids maps each id the recorded server made to the one this server
	// made in its place.
	ids map[string]string
}

// idPattern is the form of the ids switchyard makes afresh: run ids and
// prediction ids (32 hex digits).
var idPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// volatile names the fields whose values are the clock's, or a random
// draw's, and are masked before answers are compared.
var volatile = regexp.MustCompile(`(^|_)(time|timestamp|created|created_at|start_time|end_time|creation_timestamp|last_updated_timestamp|prediction_ids|model_uuid|utc_time_created)$`)

func (r *replayer) mapIDs(s string) string {
	for _, old := range slices.Sorted(maps.Keys(r.ids)) {
		s = strings.ReplaceAll(s, old, r.ids[old])
	}
	return s
}

func (r *replayer) replay(ex exchange) error {
	body := []byte(r.mapIDs(string(ex.Body)))
	if ex.BodyB64 != "" {
		raw, err := base64.StdEncoding.DecodeString(ex.BodyB64)
		if err != nil {
			return err
		}
		body = []byte(r.mapIDs(string(raw)))
	}
	path := r.mapIDs(ex.Path)
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, got, err := r.send(ex.Method, path, ex.ContentType, body)
		if err != nil {
			return err
		}
		err = r.compare(ex, status, got)
		if err == nil || ex.Method != "GET" || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *replayer) send(method, path, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, r.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// compare checks an answer against the recorded one, and learns the ids
// it holds in place of the recorded ones.
func (r *replayer) compare(ex exchange, status int, got []byte) error {
	if status != ex.Status {
		return fmt.Errorf("status %d, the client got %d; answer %s", status, ex.Status, got)
	}
	if ex.ResponseB64 != "" { // a file
		want, err := base64.StdEncoding.DecodeString(ex.ResponseB64)
		if err != nil {
			return err
		}
		if !bytes.Equal([]byte(r.mapIDs(string(want))), got) {
			return fmt.Errorf("answered %d bytes that differ from the %d the client read", len(got), len(want))
		}
		return nil
	}
	if len(ex.Response) == 0 {
		return nil
	}
	var want, have any
	if err := json.Unmarshal([]byte(r.mapIDs(string(ex.Response))), &want); err != nil {
		return fmt.Errorf("recorded answer: %w", err)
	}
	if err := json.Unmarshal(got, &have); err != nil {
		return fmt.Errorf("answer %q is not JSON: %w", got, err)
	}
	if status >= 400 {
		if err := r.protos.checkError(have); err != nil {
			return err
		}
	} else if msg := r.protos.response(ex.Method, ex.Path); msg != "" {
		if err := r.protos.check("answer", have, msg); err != nil {
			return err
		}
	}
	r.learn(want, have)
	// What a write answers of how versions serve (the switchyard.* tags)
	// depends on how far the store has got: only reads, which are
	// repeated until they match, compare it.
	write := ex.Method != "GET"
	want, have = mask(r.mapIDsIn(want), write), mask(have, write)
	if !reflect.DeepEqual(want, have) {
		w, _ := json.Marshal(want)
		h, _ := json.Marshal(have)
		return fmt.Errorf("answer differs from the recorded one\n got: %s\nwant: %s", h, w)
	}
	return nil
}

// learn walks a recorded answer and this server's side by side, and maps
// each recorded id to the one in the same place.
func (r *replayer) learn(want, have any) {
	switch w := want.(type) {
	case map[string]any:
		h, _ := have.(map[string]any)
		for k, v := range w {
			r.learn(v, h[k])
		}
	case []any:
		h, _ := have.([]any)
		for i := range min(len(w), len(h)) {
			r.learn(w[i], h[i])
		}
	case string:
		if h, ok := have.(string); ok && h != w && idPattern.MatchString(w) && idPattern.MatchString(h) {
			r.ids[w] = h
		}
	}
}

func (r *replayer) mapIDsIn(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = r.mapIDsIn(e)
		}
	case []any:
		for i, e := range x {
			x[i] = r.mapIDsIn(e)
		}
	case string:
		return r.mapIDs(x)
	}
	return v
}

// mask blanks the values of volatile fields, and with serving those of
// the switchyard.* tags and what a pending version is waiting for.
func mask(v any, serving bool) any {
	switch x := v.(type) {
	case map[string]any:
		if key, _ := x["key"].(string); serving && strings.HasPrefix(key, "switchyard.") {
			x["value"] = "(masked)"
		}
		if m, ok := x["MLmodel"].(map[string]any); ok {
			m["sha256"] = "(masked)" // MLmodel names the run, whose id is new
		}
		if p, _ := x["path"].(string); strings.HasSuffix(p, "manifest.json") {
			// Its created_at has as many digits as the milliseconds need.
			x["file_size"] = "(masked)"
		}
		if serving && x["status"] == "PENDING_REGISTRATION" {
			x["status_message"] = "(masked)" // which step of loading it is at
		}
		for k, e := range x {
			if volatile.MatchString(k) {
				x[k] = "(masked)"
			} else {
				x[k] = mask(e, serving)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = mask(e, serving)
		}
	}
	return v
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}
