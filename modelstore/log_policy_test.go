package modelstore

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/tracking"
)

func TestLogPolicyBlock(t *testing.T) {
	p, err := ParsePolicy([]byte("log:\n  sample: 0.1\n  retention: 72h\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := p.Log.Apply(tracking.DefaultLogPolicy())
	if got.Sample != 0.1 || got.Retention != 72*time.Hour || got.MaxBytes != tracking.DefaultLogMaxBytes {
		t.Errorf("log block = %+v", got)
	}
	if p, err := ParsePolicy(nil); err != nil || p.Log.Apply(tracking.DefaultLogPolicy()) != tracking.DefaultLogPolicy() {
		t.Errorf("no log block: %+v, %v; want the defaults", p, err)
	}
	for body, want := range map[string]string{
		"log:\n  sample: 2\n":          "sample is 2",
		"log:\n  retention: -1h\n":     "retention is -1h",
		"log:\n  max_bytes: 0\n":       "max_bytes is 0",
		"log:\n  samples: 0.5\n":       "samples",
		"log:\n  sample: half\n":       "sample",
		"log:\n  retention: forever\n": "retention",
	} {
		_, err := ParsePolicy([]byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want an error naming %q", body, err, want)
		}
	}
}
