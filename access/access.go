// Package access decides who may call which endpoint: every endpoint has
// a class (infer, read or write), every token a role that allows the
// classes up to its own, and a Policy says which classes need a token at
// all. Tokens are named so that the audit trail can say which one acted;
// their secrets are kept only as SHA-256 sums and compared in constant
// time, and never appear in an error or a log.
package access

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
)

// Class is an endpoint's class: what a token must allow for a request to
// reach it. The classes are ordered: a role allows its own class and the
// ones below it.
type Class uint8

// The classes, in order.
const (
	// Public endpoints never need a token: the health checks a load
	// balancer probes and the metrics Prometheus scrapes.
	Public Class = iota + 1
	// Infer is an inference request: predictions, nothing changes.
	Infer
	// Read reads state: metadata, status, the audit trail, runs.
	Read
	// Write changes state: rollouts, the repository, tracking, artifacts.
	Write
)

// classNames are the classes' names, by value.
var classNames = [...]string{Public: "public", Infer: "infer", Read: "read", Write: "write"}

// String returns the class's name: public, infer, read or write.
func (c Class) String() string {
	if int(c) < len(classNames) && classNames[c] != "" {
		return classNames[c]
	}
	return "unknown"
}

// ParseClass returns the class named s: infer, read or write. (Public is
// not a class a token or a policy names.)
func ParseClass(s string) (Class, error) {
	for c := Infer; c <= Write; c++ {
		if s == c.String() {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w: %q is not infer, read or write", ErrConfig, s)
}

// The errors of Check, and of reading a configuration.
var (
	// ErrUnauthenticated is returned for a request to a guarded class
	// without a valid token (401).
	ErrUnauthenticated = errors.New("a valid bearer token is required: Authorization: Bearer TOKEN")
	// ErrForbidden is wrapped for a request whose token's role does not
	// allow the endpoint's class (403).
	ErrForbidden = errors.New("forbidden")
	// ErrConfig is wrapped by ParseTokens and NewPolicy for a
	// configuration they refuse.
	ErrConfig = errors.New("access: invalid configuration")
)

// Token is a named secret with a role: the highest class it allows.
type Token struct {
	// Name identifies the token in the audit trail and the logs.
	Name string
	// Role is the highest class the token allows: Infer, Read or Write.
	Role Class
	// sum is the SHA-256 of the secret.
	sum [sha256.Size]byte
}

// NewToken returns a token named name with role over secret.
func NewToken(name string, role Class, secret string) (Token, error) {
	switch {
	case !validName(name):
		return Token{}, fmt.Errorf("%w: token name %q (use 1-64 of A-Z a-z 0-9 _ . -)", ErrConfig, name)
	case role < Infer || role > Write:
		return Token{}, fmt.Errorf("%w: token %s: role %v is not infer, read or write", ErrConfig, name, role)
	case secret == "" || strings.ContainsAny(secret, " \t\r\n"):
		return Token{}, fmt.Errorf("%w: token %s: the secret is empty or holds white space", ErrConfig, name)
	}
	return Token{Name: name, Role: role, sum: sha256.Sum256([]byte(secret))}, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

// Policy says which classes need a token and which tokens there are. The
// zero value, and a nil *Policy, need none. A Policy does not change once
// made and may be used concurrently.
type Policy struct {
	tokens  []Token
	guarded [Write + 1]bool
}

// NewPolicy returns a policy under which requests of the guarded classes
// need one of tokens with a role that allows them. Guarding a class with
// no tokens is refused: nothing could reach it.
func NewPolicy(tokens []Token, guarded ...Class) (*Policy, error) {
	p := &Policy{tokens: tokens}
	seen := map[string]bool{}
	for _, t := range tokens {
		if seen[t.Name] {
			return nil, fmt.Errorf("%w: two tokens named %s", ErrConfig, t.Name)
		}
		seen[t.Name] = true
	}
	for _, c := range guarded {
		if c < Infer || c > Write {
			return nil, fmt.Errorf("%w: class %v cannot be guarded", ErrConfig, c)
		}
		if len(tokens) == 0 {
			return nil, fmt.Errorf("%w: %v requests need a token, but none is configured", ErrConfig, c)
		}
		p.guarded[c] = true
	}
	return p, nil
}

// Open reports whether no class needs a token.
func (p *Policy) Open() bool {
	return p == nil || !p.guarded[Infer] && !p.guarded[Read] && !p.guarded[Write]
}

// Guarded reports whether requests of class c need a token.
func (p *Policy) Guarded(c Class) bool {
	return p != nil && c <= Write && p.guarded[c]
}

// Check decides a request of class c that carried the Authorization
// header authorization (nil when it had none). It returns the name of the
// token that allowed it, or "" when c needs none; ErrUnauthenticated when
// no configured token matches; and an error wrapping ErrForbidden, naming
// the token and the class, when the token's role does not allow c. Every
// token is compared, in constant time, whichever matches.
func (p *Policy) Check(c Class, authorization []byte) (string, error) {
	if !p.Guarded(c) {
		return "", nil
	}
	secret, ok := bearer(authorization)
	if !ok {
		return "", ErrUnauthenticated
	}
	sum := sha256.Sum256(secret)
	match := -1
	for i := range p.tokens {
		if subtle.ConstantTimeCompare(sum[:], p.tokens[i].sum[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", ErrUnauthenticated
	}
	t := &p.tokens[match]
	if t.Role < c {
		return t.Name, fmt.Errorf("%w: token %s may %s, not %s", ErrForbidden, t.Name, t.Role, c)
	}
	return t.Name, nil
}

// bearer returns the credentials of an "Authorization: Bearer X" header;
// the scheme is case-insensitive.
func bearer(h []byte) ([]byte, bool) {
	const scheme = "bearer "
	if len(h) <= len(scheme) || !bytes.EqualFold(h[:len(scheme)], []byte(scheme)) {
		return nil, false
	}
	secret := bytes.TrimSpace(h[len(scheme):])
	return secret, len(secret) > 0
}

// nameKey is the context key of the name of the token a request carried.
type nameKey struct{}

// WithName returns ctx carrying the name of the token its request
// carried.
func WithName(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, nameKey{}, name)
}

// MarkName keeps name where Name finds it in the context of a request
// that holds its own values, such as a *fasthttp.RequestCtx.
func MarkName(ctx interface{ SetUserValue(key, value any) }, name string) {
	ctx.SetUserValue(nameKey{}, name)
}

// Name returns the name of the token ctx's request carried, or "".
func Name(ctx context.Context) string {
	name, _ := ctx.Value(nameKey{}).(string)
	return name
}
