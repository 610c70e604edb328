package errtext

import (
	"fmt"
	"strings"
)

// packages are the switchyard packages whose sentinels Text rewrites.
var packages = []string{
	"access", "admin", "batcher", "bench", "demo", "drift", "engine", "gate", "httpapi",
	"mlflow", "modelstore", "ops", "regfile", "rollout", "server", "tracking",
}

// Text returns err's message with the package prefix ("pkg: ", for a
// switchyard package) taken off each error in its chain that
// errors.New or fmt.Errorf made: a sentinel such as "modelstore: not
// ready" reads "not ready", a wrap such as "engine: load model: %w"
// reads "load model: ...". Errors of other types are left as they are,
// so a policy.yaml path such as "rollout: steps" keeps its block name.
// Text(nil) is "".
func Text(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	for _, s := range prefixed(err, nil) {
		if rest, ok := strip(s); ok {
			msg = strings.ReplaceAll(msg, s, rest)
		}
	}
	return msg
}

// prefixed appends to dst the messages of the errors in err's chain that
// errors.New or fmt.Errorf made, outermost first.
func prefixed(err error, dst []string) []string {
	switch fmt.Sprintf("%T", err) {
	case "*errors.errorString", "*fmt.wrapError", "*fmt.wrapErrors":
		dst = append(dst, err.Error())
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if next := u.Unwrap(); next != nil {
			return prefixed(next, dst)
		}
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if e != nil {
				dst = prefixed(e, dst)
			}
		}
	}
	return dst
}

// strip returns s without its package prefix, if it has one of ours.
func strip(s string) (string, bool) {
	pkg, rest, ok := strings.Cut(s, ": ")
	if !ok || rest == "" {
		return "", false
	}
	for _, p := range packages {
		if p == pkg {
			return rest, true
		}
	}
	return "", false
}
