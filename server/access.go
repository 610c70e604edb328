package server

import (
	"bytes"
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// errNotJSON refuses a write whose body is not JSON: a form post from a
// web page, say, which a browser sends cross-site without asking.
var errNotJSON = httpapi.Classify(httpapi.ErrUnsupportedMediaType,
	"a write takes a JSON body: send Content-Type: application/json")

// authorize checks a request that matched e against the access policy;
// the name of the token that allowed it is kept on ctx (access.Name). An
// endpoint that needs no token costs a branch.
func (s *Server) authorize(ctx *fasthttp.RequestCtx, e *httpapi.Endpoint) error {
	if s.cfg.Access.Guarded(e.Access) {
		name, err := s.cfg.Access.Check(e.Access, ctx.Request.Header.Peek(fasthttp.HeaderAuthorization))
		switch {
		case errors.Is(err, access.ErrForbidden):
			s.log.Warn("request refused: its token's role does not allow it", "token", name, "method", string(ctx.Method()),
				"path", string(ctx.Path()), "class", e.Access.String())
			return err
		case err != nil:
			s.log.Debug("request refused: no valid token", "method", string(ctx.Method()), "path", string(ctx.Path()),
				"remote", ctx.RemoteIP().String())
			return err
		}
		access.MarkName(ctx, name)
	}
	return nil
}

// jsonBody reports whether a request's body is JSON, or absent: a
// Content-Type of application/json or application/*+json (with any
// parameters), or none with an empty body.
func jsonBody(r *fasthttp.Request) bool {
	ct := r.Header.ContentType()
	if len(ct) == 0 {
		return len(r.Body()) == 0
	}
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	return bytes.EqualFold(ct, []byte("application/json")) ||
		len(ct) > len("application/+json") && bytes.EqualFold(ct[:len("application/")], []byte("application/")) &&
			bytes.EqualFold(ct[len(ct)-len("+json"):], []byte("+json"))
}
