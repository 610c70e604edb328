package modelstore

import (
	"strings"
	"testing"
	"time"
)

func TestCachePolicyBlock(t *testing.T) {
	p, err := ParsePolicy([]byte("cache: {max_bytes: 64MiB, ttl: 30s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if n, ttl := p.Cache.Limits(); n != 64<<20 || ttl != 30*time.Second {
		t.Errorf("cache block = %d bytes, ttl %v; want 64MiB, 30s", n, ttl)
	}
	if p, err := ParsePolicy([]byte("cache: {max_bytes: 4096}\n")); err != nil {
		t.Error(err)
	} else if n, ttl := p.Cache.Limits(); n != 4096 || ttl != DefaultCacheTTL {
		t.Errorf("max_bytes only = %d, %v; want 4096 and the default ttl", n, ttl)
	}
	if p, err := ParsePolicy([]byte("cache: {}\n")); err != nil || p.Cache == nil {
		t.Errorf("empty cache block: %+v, %v; want the cache on with defaults", p, err)
	}
	if p, err := ParsePolicy([]byte("cache:\n  # ttl: 5m\n")); err != nil || p.Cache != nil {
		t.Errorf("cache block with its keys commented out: %+v, %v; want the cache off", p, err)
	}
	if p, err := ParsePolicy(nil); err != nil || p.Cache != nil {
		t.Errorf("no cache block: %+v, %v; want the cache off", p, err)
	}
	for body, want := range map[string]string{
		"cache:\n  max_bytes: 0\n":             "max_bytes is 0",
		"cache:\n  max_bytes: -5MiB\n":         "max_bytes is -5242880",
		"cache:\n  max_bytes: lots\n":          "max_bytes",
		"cache:\n  max_bytes: 1.5MiB\n":        "max_bytes",
		"cache:\n  max_bytes: 9999999999GiB\n": "max_bytes",
		"cache:\n  ttl: 0s\n":                  "ttl is 0s",
		"cache:\n  ttl: soon\n":                "ttl",
		"cache:\n  max_byte: 1024\n":           "max_byte",
		"cache: 64MiB\n":                       "cache",
	} {
		_, err := ParsePolicy([]byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want an error naming %q", body, err, want)
		}
	}
}
