package server

import (
	"crypto/sha256"
	_ "embed" // the docs page
	"encoding/base64"
	"strings"

	"github.com/valyala/fasthttp"
)

// The docs page, in three files so that each reads as what it is. They
// are put together once into one HTML document: /docs is a single route,
// so the page carries its style and script inline.
var (
	//go:embed docs/docs.html
	docsHTML string
	//go:embed docs/docs.css
	docsCSS string
	//go:embed docs/docs.js
	docsJS string
)

// docsPage is the page GET /docs serves, and docsCSP the
// Content-Security-Policy it is served with: its own inline style and
// script (by their sha256) and requests to this server, nothing else.
var docsPage, docsCSP = buildDocsPage(docsHTML, docsCSS, docsJS)

// buildDocsPage puts css and js into page, in place of the lines
// {{style}} and {{script}}, and returns the result with the
// Content-Security-Policy that allows exactly them.
func buildDocsPage(page, css, js string) ([]byte, string) {
	page = strings.Replace(page, "{{style}}", "<style>"+css+"</style>", 1)
	page = strings.Replace(page, "{{script}}", "<script>"+js+"</script>", 1)
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	csp := "default-src 'none'; script-src " + hash(js) + "; style-src " + hash(css) +
		"; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	return []byte(page), csp
}

// docs serves GET /docs: a page, embedded in the binary, that lists the
// server's endpoints from /openapi.json and each ready model's fields
// from its /v1/models/{m}/openapi.json, with a form per model that sends
// a records request and shows the answer or the 422's problems.
func (s *Server) docs(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.SetBodyRaw(docsPage) // never modified
}
