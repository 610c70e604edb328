package server

import (
	"fmt"
	"strconv"

	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// The problem codes of a records 422, one per kind of bad field. They are
// part of the API: clients branch on them, so they never change.
const (
	problemMissing    = "missing"     // a field without a default is absent or null
	problemType       = "type"        // a value of the wrong JSON type, or an integer that is not whole
	problemRange      = "range"       // a number outside min and max, or an integer its input type cannot hold
	problemNotAllowed = "not_allowed" // a category value not among the feature's values
	problemUnknown    = "unknown"     // a field the schema does not name, when unknown fields are rejected
	problemNotFinite  = "not_finite"  // NaN, an infinity, or a number too large for its input's float type
)

// problem is one thing wrong with one field of one instance of a records
// request.
type problem struct {
	instance int    // the index of the instance in "instances"
	field    string // the field's name
	code     string // one of the problem codes
	message  string // a sentence for people, naming the field and the value
}

// addf records a problem of field in instance i.
func (r *records) addf(i int, field, code, format string, args ...any) {
	r.problems = append(r.problems, problem{instance: i, field: field, code: code, message: fmt.Sprintf(format, args...)})
}

// problemsError is a records request whose instances break the version's
// schema. It holds every problem found, in order of instance; the handler
// answers it with 422 (it wraps httpapi.ErrUnprocessable) and
// AppendJSON's body.
type problemsError struct {
	problems  []problem
	instances int // how many instances have a problem
}

// newProblemsError returns the error of problems, which must not be
// empty and must be in order of instance. It keeps problems.
func newProblemsError(problems []problem) *problemsError {
	e := &problemsError{problems: problems}
	for k, p := range problems {
		if k == 0 || p.instance != problems[k-1].instance {
			e.instances++
		}
	}
	return e
}

// Error says how many problems there are, in how many instances: "2
// problems in 2 instances".
func (e *problemsError) Error() string {
	return plural(len(e.problems), "problem") + " in " + plural(e.instances, "instance")
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	s := strconv.Itoa(n) + " " + noun
	if n != 1 {
		s += "s"
	}
	return s
}

// Unwrap classifies the error as httpapi.ErrUnprocessable (422).
func (e *problemsError) Unwrap() error { return httpapi.ErrUnprocessable }

// AppendJSON appends the 422 body to dst and returns the extended slice,
// implementing httpapi.BodyError:
//
//	{"error":"2 problems in 2 instances","problems":[
//	 {"instance":0,"field":"amount","problem":"missing","message":"amount is required"},
//	 {"instance":1,"field":"country","problem":"not_allowed","message":"country \"XX\" is not one of FR, DE, US"}]}
func (e *problemsError) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"error":`...)
	dst = httpapi.AppendJSONString(dst, e.Error())
	dst = append(dst, `,"problems":[`...)
	for k, p := range e.problems {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"instance":`...)
		dst = strconv.AppendInt(dst, int64(p.instance), 10)
		dst = append(dst, `,"field":`...)
		dst = httpapi.AppendJSONString(dst, p.field)
		dst = append(dst, `,"problem":`...)
		dst = httpapi.AppendJSONString(dst, p.code)
		dst = append(dst, `,"message":`...)
		dst = httpapi.AppendJSONString(dst, p.message)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}
