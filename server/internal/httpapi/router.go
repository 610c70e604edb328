package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/valyala/fasthttp"
)

// Router routes requests to the endpoints of its APIs. It is built once
// from their tables and is immutable: safe for concurrent use.
type Router struct {
	root node
	apis []*API
}

// node is a path segment of the tree the tables compile into.
type node struct {
	static []staticEdge
	params []paramEdge
	// rest, when set, takes the whole remaining path as restName.
	rest     *route
	restName string
	// route holds the endpoints of the path that ends here; nil for none.
	route *route
}

type staticEdge struct {
	seg  string
	next *node
}

type paramEdge struct {
	name    string
	suffix  []byte
	version bool
	next    *node
}

// route is the endpoints of one path, one per method, in table order.
type route struct {
	endpoints []*Endpoint
}

// NewRouter compiles the tables of apis. It refuses a malformed pattern
// and two endpoints with the same method and pattern.
func NewRouter(apis ...*API) (*Router, error) {
	r := &Router{apis: apis}
	for _, a := range apis {
		for i := range a.Endpoints {
			if err := r.add(&a.Endpoints[i]); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// APIs returns the APIs the router was built from, in order. The caller
// must not modify them.
func (r *Router) APIs() []*API { return r.apis }

func (r *Router) add(e *Endpoint) error {
	if e.Method == "" || e.Handler == nil || !strings.HasPrefix(e.Path, "/") {
		return fmt.Errorf("httpapi: endpoint %s %q: a method, a handler and an absolute path are required", e.Method, e.Path)
	}
	n, params := &r.root, 0
	segs := strings.Split(strings.Trim(e.Path, "/"), "/")
	var rt **route
	for i, seg := range segs {
		open, close := strings.IndexByte(seg, '{'), strings.IndexByte(seg, '}')
		switch {
		case seg == "" && len(segs) == 1: // the root path
			rt = &n.route
		case seg == "":
			return fmt.Errorf("httpapi: endpoint %s %q: empty segment", e.Method, e.Path)
		case open < 0:
			n = n.staticChild(seg)
		case open != 0 || close < 0:
			return fmt.Errorf("httpapi: endpoint %s %q: segment %q: a parameter must start its segment", e.Method, e.Path, seg)
		case strings.HasSuffix(seg, "...}"):
			if i != len(segs)-1 {
				return fmt.Errorf("httpapi: endpoint %s %q: {name...} must be the last segment", e.Method, e.Path)
			}
			if n.rest == nil {
				n.rest, n.restName = &route{}, seg[1:len(seg)-4]
			}
			rt = &n.rest
		default:
			if params++; params > maxParams {
				return fmt.Errorf("httpapi: endpoint %s %q: more than %d parameters", e.Method, e.Path, maxParams)
			}
			n = n.paramChild(seg[1:close], seg[close+1:])
		}
	}
	if rt == nil {
		rt = &n.route
	}
	if *rt == nil {
		*rt = &route{}
	}
	for _, o := range (*rt).endpoints {
		if o.Method == e.Method {
			return fmt.Errorf("httpapi: endpoint %s %q is in the tables twice", e.Method, e.Path)
		}
	}
	(*rt).endpoints = append((*rt).endpoints, e)
	return nil
}

func (n *node) staticChild(seg string) *node {
	for _, s := range n.static {
		if s.seg == seg {
			return s.next
		}
	}
	next := &node{}
	n.static = append(n.static, staticEdge{seg, next})
	return next
}

func (n *node) paramChild(name, suffix string) *node {
	for _, p := range n.params {
		if p.name == name && string(p.suffix) == suffix {
			return p.next
		}
	}
	next := &node{}
	n.params = append(n.params, paramEdge{name: name, suffix: []byte(suffix), version: name == "version", next: next})
	return next
}

// Match returns the endpoint of method and path, and the parameters the
// path holds. It allocates nothing when it finds one. Otherwise its error
// wraps ErrNoRoute (with the reason when a version segment is not a
// positive integer) or is a *MethodError listing the methods the path
// takes. Repeated slashes count as one; a literal segment takes
// precedence over a parameter.
func (r *Router) Match(method, path []byte) (*Endpoint, Params, error) {
	var m matcher
	rt := m.walk(&r.root, path)
	switch {
	case rt == nil && m.badVersion != nil:
		return nil, Params{}, fmt.Errorf("%w: version %q is not a positive integer", ErrNoRoute, m.badVersion)
	case rt == nil:
		return nil, Params{}, ErrNoRoute
	}
	for _, e := range rt.endpoints {
		if string(method) == e.Method {
			return e, m.p, nil
		}
	}
	me := &MethodError{Method: string(method), Path: string(path)}
	for _, e := range rt.endpoints {
		me.Allowed = append(me.Allowed, e.Method)
	}
	return nil, Params{}, me
}

// matcher is the state of one Match.
type matcher struct {
	p Params
	// badVersion is the first version segment that was not a positive
	// integer, reported when nothing matched.
	badVersion []byte
}

// walk returns the route of rest below n, filling in m.p, or nil.
func (m *matcher) walk(n *node, rest []byte) *route {
	for len(rest) > 0 && rest[0] == '/' {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return n.route
	}
	i := bytes.IndexByte(rest, '/')
	if i < 0 {
		i = len(rest)
	}
	seg, tail := rest[:i], rest[i:]
	for k := range n.static {
		if string(seg) == n.static[k].seg {
			if rt := m.walk(n.static[k].next, tail); rt != nil {
				return rt
			}
		}
	}
	for k := range n.params {
		e := &n.params[k]
		if !bytes.HasSuffix(seg, e.suffix) {
			continue
		}
		val := seg[:len(seg)-len(e.suffix)]
		if e.version {
			v, ok := positive(val)
			if !ok {
				if m.badVersion == nil {
					m.badVersion = val
				}
				continue
			}
			m.p.version = v
		} else if len(val) == 0 {
			continue
		}
		saved := m.p.n
		m.p.push(e.name, val)
		if rt := m.walk(e.next, tail); rt != nil {
			return rt
		}
		m.p.n = saved
		if e.version {
			m.p.version = 0
		}
	}
	if n.rest != nil {
		m.p.push(n.restName, rest)
		return n.rest
	}
	return nil
}

// positive parses b as a positive integer without leading zeros.
func positive(b []byte) (int, bool) {
	if len(b) == 0 || b[0] == '0' {
		return 0, false
	}
	const maxInt = int(^uint(0) >> 1)
	v := 0
	for _, c := range b {
		d := int(c - '0')
		if c < '0' || c > '9' || v > (maxInt-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// Refuse answers a request Match found no endpoint for, with err, its
// error: through the Unmatched of the API that claims the path, else
// with WriteError.
func (r *Router) Refuse(ctx *fasthttp.RequestCtx, err error) {
	if a := r.claimant(ctx.Path(), ctx.URI().PathOriginal()); a != nil && a.Unmatched != nil {
		a.Unmatched(ctx, err)
		return
	}
	if _, ok := errors.AsType[*MethodError](err); !ok {
		err = fmt.Errorf("%s %s: %w", ctx.Method(), ctx.Path(), err)
	}
	WriteError(ctx, err)
}

// Deny answers a request the server refuses before its endpoint's
// handler runs, such as one without the token the endpoint needs, in the
// form of the API that claims its path (API.Deny).
func (r *Router) Deny(ctx *fasthttp.RequestCtx, err error) {
	if a := r.claimant(ctx.Path(), ctx.URI().PathOriginal()); a != nil && a.Deny != nil {
		a.Deny(ctx, err)
		return
	}
	WriteError(ctx, fmt.Errorf("%s %s: %w", ctx.Method(), ctx.Path(), err))
}

// claimant returns the API whose prefixes claim a request, or nil.
func (r *Router) claimant(path, raw []byte) *API {
	for _, a := range r.apis {
		for _, p := range a.Prefixes {
			if bytes.HasPrefix(path, []byte(p)) {
				return a
			}
		}
	}
	for _, a := range r.apis {
		for _, p := range a.RawPrefixes {
			if bytes.HasPrefix(raw, []byte(p)) {
				return a
			}
		}
	}
	return nil
}
