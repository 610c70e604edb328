package server

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/access"
)

// cspHash is a Content-Security-Policy source that allows the inline
// script or style s.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// TestStatusPageServed: GET / is the embedded page with its style and
// script inline, under a policy that allows exactly them, served without
// a token even when reads need one (the page holds no data; its script
// asks for the token).
func TestStatusPageServed(t *testing.T) {
	ts := serveRegistry(t, t.TempDir(), Config{Access: testPolicy(t, access.Read, access.Write)})
	r := ts.do(t, "GET", "/", "")
	if r.status != 200 || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET / = %d %s", r.status, r.header.Get("Content-Type"))
	}
	page := string(r.body)
	for _, want := range []string{"<script>" + statusJS + "</script>", "<style>" + statusCSS + "</style>", "<title>switchyard status</title>"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the page lacks %.60q", want)
		}
	}
	if strings.Contains(page, "{{") {
		t.Fatal("the page still holds a placeholder")
	}
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src " + cspHash(statusJS) + ";", "style-src " + cspHash(statusCSS) + ";", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("headers %v lack X-Content-Type-Options: nosniff or Cache-Control: no-cache", r.header)
	}
	if r := ts.do(t, "POST", "/", ""); r.status != 405 {
		t.Fatalf("POST / = %d, want 405", r.status)
	}
	if r := ts.do(t, "GET", "/admin/models", ""); r.status != 401 {
		t.Fatalf("GET /admin/models without a token = %d, want 401: the page's data needs one", r.status)
	}
}

// TestStatusScriptWritesNoHTML holds the page to the docs page's rule:
// what comes from the server is set as text, never parsed as HTML, and
// nothing in the script or style can end its element early; nor does it
// load anything from elsewhere.
func TestStatusScriptWritesNoHTML(t *testing.T) {
	for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(statusJS, `"http://www.w3.org/2000/svg"`, ""), banned) {
			t.Errorf("status.js uses %s", banned)
		}
	}
	if strings.Contains(strings.ToLower(statusJS), "</script") || strings.Contains(strings.ToLower(statusCSS), "</style") {
		t.Error("status.js or status.css holds the tag that closes its element")
	}
}
