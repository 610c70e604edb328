package httpapi

import (
	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/server/internal/openapi"
)

// Access is an endpoint's class for access control: what a token must
// allow for a request to reach it (see package access).
type Access = access.Class

// The access classes.
const (
	// Public endpoints never need a token: health checks and metrics.
	Public = access.Public
	// Infer is an inference request: predictions, nothing changes.
	Infer = access.Infer
	// Read reads state: metadata, status, the audit trail, runs.
	Read = access.Read
	// Write changes state: rollouts, the repository, tracking, artifacts.
	Write = access.Write
)

// Handler serves one request of an endpoint. p holds the path parameters
// the router matched; they alias the request's path and must not be kept
// after the handler returns.
type Handler func(ctx *fasthttp.RequestCtx, p Params)

// Endpoint is one line of an endpoint table: a method and a path pattern,
// the endpoint's access class, its handler and its OpenAPI operation.
//
// A pattern is a slash-separated path whose segments are literals or
// parameters: {name} matches one non-empty segment, {name}SUFFIX (such
// as {model}:predict) one segment ending in SUFFIX, and a last segment
// {name...} the rest of the path. A parameter called version matches
// only a positive integer without leading zeros; Params.Version returns
// it.
type Endpoint struct {
	Method  string
	Path    string
	Access  Access
	Handler Handler
	// Op is the endpoint's operation in the server's OpenAPI document; nil
	// leaves the endpoint out of it (an alias of a documented path).
	Op *openapi.Operation
	// StreamBody hands the handler the request body as a stream
	// (ctx.RequestBodyStream, nil when the body is already in memory),
	// not held in memory and not bounded by the server's request body
	// limit: the handler must bound what it reads itself and must not
	// call ctx.PostBody, which would read the whole stream into memory.
	// Every other endpoint's body is read in full, up to that limit,
	// before its handler runs.
	StreamBody bool
}

// API is one audience's endpoint table and how it answers the requests
// under its paths that match no endpoint.
type API struct {
	Endpoints []Endpoint
	// Prefixes claims the paths that begin with one of them, matched or
	// not; RawPrefixes also those whose path as sent (before fasthttp
	// removed its dot segments) does.
	Prefixes, RawPrefixes []string
	// Unmatched answers a claimed request that matched no endpoint (err
	// wraps ErrNoRoute) or not its method (err is a *MethodError). Nil
	// answers with WriteError.
	Unmatched func(ctx *fasthttp.RequestCtx, err error)
	// Deny answers a request of one of its endpoints that the server
	// refuses before its handler runs (no token, a body not JSON), in the
	// API's own error form. Nil answers with WriteError.
	Deny func(ctx *fasthttp.RequestCtx, err error)
	// Tags and Components are the API's part of the server's OpenAPI
	// document: the tags its operations name, and a function that adds
	// the schemas and responses they refer to (nil for none).
	Tags       []openapi.Tag
	Components func(c *openapi.Components)
}

// maxParams is the most parameters a pattern may hold.
const maxParams = 3

// Params are the parameters a request's path matched. The zero value
// holds none. Values alias the request's path.
type Params struct {
	n       int
	names   [maxParams]string
	values  [maxParams][]byte
	version int
}

// Get returns the value of the parameter called name, or nil when the
// path has none.
func (p *Params) Get(name string) []byte {
	for i := range p.n {
		if p.names[i] == name {
			return p.values[i]
		}
	}
	return nil
}

// Version returns the {version} parameter, or 0 when the path has none.
func (p *Params) Version() int { return p.version }

func (p *Params) push(name string, v []byte) {
	p.names[p.n], p.values[p.n] = name, v
	p.n++
}
