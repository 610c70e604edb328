package server

import (
	"bytes"
	"fmt"
	"io"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// Request bodies. The fasthttp.Server streams them (StreamRequestBody) so
// that an endpoint marked httpapi.Endpoint.StreamBody, the MLflow
// artifact upload, can take a body larger than MaxRequestBodySize to disk
// as it arrives. With streaming on, fasthttp calls the handler once it
// has read up to 8 KiB of any body, of any size, and hands over the rest
// as a stream; ctx.PostBody would read that stream whole, without a
// limit. So every other endpoint keeps here the contract it had before:
// its body is read whole, up to MaxRequestBodySize, before its handler
// runs, and a longer one gets 413, from its declared length before a
// byte of it is read when it has one.

// headerReceived runs once a request's headers are read, before its
// body. A body declared longer than MaxRequestBodySize for an endpoint
// that does not stream gets "Expect: 100-continue" added to its request,
// so that fasthttp, instead of waiting for its first 8 KiB, asks
// expectContinue, which refuses it. An HTTP/1.0 request cannot expect
// 100-continue; handle refuses it once those bytes have come.
func (s *Server) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if h.ContentLength() > s.cfg.MaxRequestBodySize {
		path, _, _ := bytes.Cut(h.RequestURI(), []byte("?"))
		if !s.streamsBody(h.Method(), path) {
			h.Set(fasthttp.HeaderExpect, "100-continue")
		}
	}
	return fasthttp.RequestConfig{}
}

// expectContinue answers a request that expects 100-continue, by its
// client's choice or headerReceived's: 413 when its body is declared
// longer than MaxRequestBodySize and its endpoint does not stream, with
// the same JSON as every other 413, and 100 otherwise.
func (s *Server) expectContinue(ctx *fasthttp.RequestCtx) int {
	if ctx.Request.Header.ContentLength() <= s.cfg.MaxRequestBodySize || s.streamsBody(ctx.Method(), ctx.Path()) {
		return fasthttp.StatusContinue
	}
	return s.refuseBody(ctx, s.errBodyTooLarge())
}

// streamsBody reports whether the endpoint of method and path streams its
// request body.
func (s *Server) streamsBody(method, path []byte) bool {
	e, _, err := s.router.Match(method, path)
	return err == nil && e.StreamBody
}

// readBody reads the streamed body of a request whose endpoint does not
// stream into the request, where ctx.PostBody finds it, as fasthttp
// would without streaming. It fails with an error wrapping
// fasthttp.ErrBodyTooLarge once the body passes MaxRequestBodySize (it
// reads at most one byte more), and with a *httpapi.RequestError when the
// client breaks it off or garbles its chunks.
func (s *Server) readBody(ctx *fasthttp.RequestCtx) error {
	n := ctx.Request.Header.ContentLength() // -1: chunked
	if n > s.cfg.MaxRequestBodySize {
		return s.errBodyTooLarge()
	}
	stream := ctx.RequestBodyStream()
	// ResetBody hands the buffer that holds the bytes fasthttp read ahead
	// to the stream, which keeps reading them, and detaches the stream:
	// the request's body starts empty.
	ctx.Request.ResetBody()
	if n == 0 {
		return nil
	}
	rb := s.bodyReads.Get().(*bodyRead)
	defer s.bodyReads.Put(rb)
	left := s.cfg.MaxRequestBodySize
	w := ctx.Request.BodyWriter()
	for {
		k, err := stream.Read(rb.buf[:min(len(rb.buf), left+1)])
		if k > left {
			return s.errBodyTooLarge()
		}
		left -= k
		w.Write(rb.buf[:k]) // appends to the request's body; never fails
		if err == io.EOF && n >= 0 && s.cfg.MaxRequestBodySize-left < n {
			// fasthttp's stream ends a body whose client went away
			// with io.EOF.
			err = fmt.Errorf("the body ended after %d of its %d bytes: %w", s.cfg.MaxRequestBodySize-left, n, io.ErrUnexpectedEOF)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &httpapi.RequestError{Msg: "cannot read request: " + err.Error()}
		}
	}
}

// bodyRead is readBody's scratch buffer, pooled in Server.bodyReads;
// nothing refers to it once readBody returns.
type bodyRead struct{ buf []byte }

// newBodyRead is the New of Server.bodyReads.
func newBodyRead() any { return &bodyRead{buf: make([]byte, 32<<10)} }

// errBodyTooLarge is the error of a request body over MaxRequestBodySize.
func (s *Server) errBodyTooLarge() error {
	return fmt.Errorf("request body exceeds the limit of %d bytes: %w", s.cfg.MaxRequestBodySize, fasthttp.ErrBodyTooLarge)
}

// refuseBody answers a request whose body cannot be read with err, its
// reason, counts it and returns the status.
func (s *Server) refuseBody(ctx *fasthttp.RequestCtx, err error) int {
	status := httpapi.WriteError(ctx, err)
	s.metrics.observe(nil, status, 0)
	return status
}
