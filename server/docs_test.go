package server

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestDocsPageServed(t *testing.T) {
	ts := serveDocsModels(t)
	r := ts.do(t, "GET", "/docs", "")
	if r.status != 200 || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /docs = %d %s", r.status, r.header.Get("Content-Type"))
	}
	page := string(r.body)
	for _, want := range []string{"<script>" + docsJS + "</script>", "<style>" + docsCSS + "</style>", "<title>switchyard API</title>"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the page lacks %.60q", want)
		}
	}
	if strings.Contains(page, "{{") {
		t.Fatal("the page still holds a placeholder")
	}
	// The policy allows exactly the page's own script and style, by hash.
	csp := r.header.Get("Content-Security-Policy")
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	for _, want := range []string{"default-src 'none'", "script-src " + hash(docsJS) + ";", "style-src " + hash(docsCSS) + ";", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("headers %v lack X-Content-Type-Options: nosniff", r.header)
	}
	if r := ts.do(t, "POST", "/docs", ""); r.status != 405 {
		t.Fatalf("POST /docs = %d, want 405", r.status)
	}
}

// TestDocsScriptWritesNoHTML holds the page to its rule: what comes from
// the server is set as text, never parsed as HTML, and nothing in the
// script or style can end its element early.
func TestDocsScriptWritesNoHTML(t *testing.T) {
	for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if strings.Contains(docsJS, banned) {
			t.Errorf("docs.js uses %s", banned)
		}
	}
	if strings.Contains(strings.ToLower(docsJS), "</script") || strings.Contains(strings.ToLower(docsCSS), "</style") {
		t.Error("docs.js or docs.css holds the tag that closes its element")
	}
}
