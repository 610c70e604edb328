package httpapi

import (
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestNewRouterRefusesBadTables(t *testing.T) {
	h := func(*fasthttp.RequestCtx, Params) {}
	f := func(want string, es ...Endpoint) {
		t.Helper()
		if _, err := NewRouter(&API{Endpoints: es}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewRouter(%v) = %v; want an error with %q", es, err, want)
		}
	}
	f("required", Endpoint{Method: "GET", Path: "/a"})
	f("required", Endpoint{Method: "GET", Path: "a", Handler: h})
	f("twice", Endpoint{Method: "GET", Path: "/a/{x}", Handler: h}, Endpoint{Method: "GET", Path: "/a/{x}", Handler: h})
	f("last segment", Endpoint{Method: "GET", Path: "/a/{x...}/b", Handler: h})
	f("start its segment", Endpoint{Method: "GET", Path: "/a/b{x}", Handler: h})
	f("more than", Endpoint{Method: "GET", Path: "/{a}/{b}/{c}/{d}", Handler: h})
	f("empty segment", Endpoint{Method: "GET", Path: "/a//b", Handler: h})
}

func TestMatchBacktracks(t *testing.T) {
	h := func(*fasthttp.RequestCtx, Params) {}
	r, err := NewRouter(&API{Endpoints: []Endpoint{
		{Method: "GET", Path: "/m/{id}:x", Handler: h},
		{Method: "GET", Path: "/m/{id}/y", Handler: h},
		{Method: "GET", Path: "/m/static/y", Handler: h},
		{Method: "GET", Path: "/f/{rest...}", Handler: h},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f := func(path, pattern, id string) {
		t.Helper()
		e, p, err := r.Match([]byte("GET"), []byte(path))
		if err != nil || e.Path != pattern || string(p.Get("id")) != id {
			t.Errorf("Match(%q) = %v, %q, %v; want %s, %q", path, e, p.Get("id"), err, pattern, id)
		}
	}
	f("/m/a:x", "/m/{id}:x", "a")
	f("/m/a:x/y", "/m/{id}/y", "a:x")
	f("/m/static/y", "/m/static/y", "")
	f("/m/static:x", "/m/{id}:x", "static")
	f("/f/a/b/c", "/f/{rest...}", "")
	if _, p, _ := r.Match([]byte("GET"), []byte("/f/a/b/c")); string(p.Get("rest")) != "a/b/c" {
		t.Errorf("rest = %q; want a/b/c", p.Get("rest"))
	}
}
