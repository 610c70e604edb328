package httpapi

import (
	"errors"
	"fmt"
	"strings"
)

// The classes of errors StatusOf maps to a status. Errors of the audience
// packages wrap one of them (see Classify); they are never returned bare.
var (
	// ErrBadRequest classifies a request the server refuses as malformed
	// (400).
	ErrBadRequest = errors.New("httpapi: bad request")
	// ErrUnauthorized classifies a request without the credentials its
	// endpoint needs (401).
	ErrUnauthorized = errors.New("httpapi: unauthorized")
	// ErrNotFound classifies a request for something that does not exist
	// (404).
	ErrNotFound = errors.New("httpapi: not found")
	// ErrUnprocessable classifies a well-formed request whose content
	// breaks the rules of its endpoint (422).
	ErrUnprocessable = errors.New("httpapi: unprocessable")
	// ErrUnavailable classifies a request the server cannot serve now
	// (503, with Retry-After).
	ErrUnavailable = errors.New("httpapi: unavailable")
	// ErrUnsupportedMediaType classifies a write whose body is not JSON
	// (415).
	ErrUnsupportedMediaType = errors.New("httpapi: unsupported media type")
	// ErrHeaderFieldsTooLarge classifies a request whose line and headers
	// do not fit the server's read buffer (431).
	ErrHeaderFieldsTooLarge = errors.New("httpapi: request header fields too large")
)

// ErrNoRoute is returned by Router.Match for a path that names no
// endpoint (404).
var ErrNoRoute = Classify(ErrNotFound, "no such endpoint")

// classified is an error whose text is its own and whose class is one of
// this package's sentinels.
type classified struct {
	msg   string
	class error
}

func (e *classified) Error() string { return e.msg }
func (e *classified) Unwrap() error { return e.class }

// Classify returns a new error with text msg that StatusOf maps as class,
// one of ErrBadRequest, ErrUnauthorized, ErrNotFound, ErrUnprocessable,
// ErrUnavailable and ErrHeaderFieldsTooLarge. The audience packages
// declare their sentinels with it.
func Classify(class error, msg string) error { return &classified{msg: msg, class: class} }

// RequestError is a malformed request (400): bad JSON, a missing field, a
// value of the wrong type.
type RequestError struct{ Msg string }

// Error implements error.
func (e *RequestError) Error() string { return e.Msg }

// RequestErrorf returns a *RequestError with a formatted message.
func RequestErrorf(format string, args ...any) error {
	return &RequestError{Msg: fmt.Sprintf(format, args...)}
}

// MethodError is returned by Router.Match for a path whose endpoints do
// not take the request's method (405). Allowed lists the methods they
// take, in table order.
type MethodError struct {
	Method, Path string
	Allowed      []string
}

// Error implements error.
func (e *MethodError) Error() string {
	return fmt.Sprintf("method %s not allowed on %s; use %s", e.Method, e.Path, strings.Join(e.Allowed, " or "))
}

// Allow returns the value of the Allow header of a 405 answering e.
func (e *MethodError) Allow() string { return strings.Join(e.Allowed, ", ") }
