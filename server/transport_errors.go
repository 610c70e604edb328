package server

import (
	"errors"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// fasthttpReadBufferSize is the read buffer fasthttp gives each connection
// when Server.ReadBufferSize is 0; the request line and headers must fit
// in it.
const fasthttpReadBufferSize = 4096

// transportError returns the error to answer for err, which fasthttp
// returned while reading a request, given the server's body limit maxBody
// and its ReadBufferSize readBuffer (0: fasthttp's default):
//
//   - request line and headers past the read buffer (fasthttp's
//     *ErrSmallBuffer): 431, naming the limit. fasthttp's own text quotes
//     the headers, which may carry cookies or tokens, so it is not kept;
//   - a body over maxBody: 413, wrapping err;
//   - anything else: 400, with fasthttp's text.
func transportError(err error, maxBody, readBuffer int) error {
	if _, ok := errors.AsType[*fasthttp.ErrSmallBuffer](err); ok {
		if readBuffer <= 0 {
			readBuffer = fasthttpReadBufferSize
		}
		return httpapi.Classify(httpapi.ErrHeaderFieldsTooLarge,
			fmt.Sprintf("request headers too large: the request line and headers must fit in %d bytes", readBuffer))
	}
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		return fmt.Errorf("request body exceeds the limit of %d bytes: %w", maxBody, err)
	}
	return &httpapi.RequestError{Msg: "cannot read request: " + err.Error()}
}
