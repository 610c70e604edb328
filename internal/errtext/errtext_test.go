package errtext

import (
	"errors"
	"fmt"
	"testing"
)

func TestText(t *testing.T) {
	notReady := errors.New("modelstore: not ready")
	state := errors.New("rollout: invalid rollout.json")
	policy := errors.New("modelstore: invalid policy.yaml")
	f := func(err error, want string) {
		t.Helper()
		if got := Text(err); got != want {
			t.Errorf("Text(%q) = %q; want %q", err, got, want)
		}
	}
	f(nil, "")
	f(notReady, "not ready")
	f(fmt.Errorf("iris/2 is loading: %w", notReady), "iris/2 is loading: not ready")
	f(fmt.Errorf("promote iris: %w", fmt.Errorf("%w: weight 20000 is outside 0..10000 basis points", state)),
		"promote iris: invalid rollout.json: weight 20000 is outside 0..10000 basis points")
	// A policy.yaml block named like a package is not a sentinel.
	f(fmt.Errorf("%w: rollout: steps: line 3: want a list", policy), "invalid policy.yaml: rollout: steps: line 3: want a list")
	f(errors.Join(notReady, state), "not ready\ninvalid rollout.json")
	// A wrap that starts with a package name, around a sentinel.
	f(fmt.Errorf("candidate: %w", fmt.Errorf("engine: load model: %w", errors.New("protobuf parsing failed"))),
		"candidate: load model: protobuf parsing failed")
	f(fmt.Errorf("x: %w", fmt.Errorf("engine: input %q: %w", "in", errors.New("engine: shape mismatch"))),
		`x: input "in": shape mismatch`)
	// An error type of its own keeps its text, even when it reads like a
	// package prefix.
	f(fmt.Errorf("%w: %w", policy, &pathError{"rollout: steps: line 3: want a list"}),
		"invalid policy.yaml: rollout: steps: line 3: want a list")
	// Not ours: left alone.
	f(errors.New("open x: no such file"), "open x: no such file")
	f(fmt.Errorf("cannot parse: %w", errors.New("json: bad")), "cannot parse: json: bad")
}

type pathError struct{ s string }

func (e *pathError) Error() string { return e.s }
