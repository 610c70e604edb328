package server

import (
	_ "embed" // the status page

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/server/internal/openapi"
)

// The status page, in three files like the docs page, put together once
// into one HTML document with its style and script inline. The page
// holds no data: its script reads the admin JSON API, so serving it
// needs no token.
var (
	//go:embed status/status.html
	statusHTML string
	//go:embed status/status.css
	statusCSS string
	//go:embed status/status.js
	statusJS string
)

// statusPage is the page GET / serves, and statusCSP the
// Content-Security-Policy that allows its own inline style and script and
// requests to this server, nothing else.
var statusPage, statusCSP = buildDocsPage(statusHTML, statusCSS, statusJS)

// status serves GET /: the status page. What it shows (models, versions,
// traffic split, rollouts, gate verdicts, live quality, cost, drift,
// audit events, and charts of each version's traffic from
// GET /admin/history) its script reads from the admin API every few
// seconds, with the token it asks for on a 401.
func (s *Server) status(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	h.Set("Content-Security-Policy", statusCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.SetBodyRaw(statusPage)
}

// statusOp is GET /'s operation in /openapi.json.
func statusOp() *openapi.Operation {
	return openapi.Op(tagDocs, "status", "A status page that reads the admin API",
		&openapi.Response{Description: "An HTML page.", Content: map[string]openapi.Media{"text/html": {Schema: &openapi.Schema{Type: openapi.TypeString}}}})
}
