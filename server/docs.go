package server

import (
	"bytes"
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
// The page's servingMark is replaced per request by the serving data.
var docsPage, docsCSP = buildDocsPage(docsHTML, docsCSS, docsJS)

// servingMark is where docs.html takes the serving data, inside a
// <script type="application/json">, a data block the browser does not run.
const servingMark = "{{serving}}"

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
// server's endpoints from /openapi.json, each with a form that sends a
// request to it, and each ready model's fields from its
// /v1/models/{m}/openapi.json, with a form per model that sends a records
// request and shows the answer or the 422's problems. The page says which
// versions serve each model and at which share, from the routing table as
// it stands when the page is served (servingData).
func (s *Server) docs(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	ctx.SetContentType("text/html; charset=utf-8")
	before, after, _ := bytes.Cut(docsPage, []byte(servingMark))
	body := make([]byte, 0, len(docsPage)+512)
	body = append(body, before...)
	body = appendServingData(body, s.models)
	ctx.Response.SetBodyRaw(append(body, after...))
}
