package modelstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/quality"
)

func TestParsePolicyQuality(t *testing.T) {
	p, err := modelstore.ParsePolicy([]byte(`
quality:
  window: 500
  max_age: 2h
  min_labels: 50
  max_accuracy_drop: 0.02
  interval: 5s
`))
	if err != nil {
		t.Fatal(err)
	}
	want := quality.Policy{Window: 500, MaxAge: 2 * time.Hour, MinLabels: 50, MaxAccuracyDrop: 0.02, Interval: 5 * time.Second}
	if got := p.Quality.Apply(quality.DefaultPolicy()); got != want {
		t.Fatalf("quality policy = %+v, want %+v", got, want)
	}
	empty, err := modelstore.ParsePolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	want = quality.Policy{Window: 1000, MaxAge: 24 * time.Hour, MinLabels: 100, MaxAccuracyDrop: 0.05, Interval: 10 * time.Second}
	if got := empty.Quality.Apply(quality.DefaultPolicy()); got != want {
		t.Fatalf("default quality policy = %+v, want %+v", got, want)
	}
}

func TestParsePolicyQualityFailure(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := modelstore.ParsePolicy([]byte(in))
		if !errors.Is(err, modelstore.ErrPolicy) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePolicy(%q) = %v; want ErrPolicy mentioning %q", in, err, want)
		}
	}
	f("quality:\n  windw: 10\n", `quality: line 2: unknown key "windw" (did you mean "window"?)`)
	f("quality:\n  window: 0\n", "quality: window 0: must be between 1 and")
	f("quality:\n  window: 2.5\n", "window: line 2: \"2.5\": want an integer")
	f("quality:\n  max_age: forever\n", "quality: max_age: line 2")
	f("quality:\n  max_age: 0s\n", "max_age 0s: must be positive")
	f("quality:\n  min_labels: 0\n", "min_labels 0: must be between 1 and window (1000)")
	f("quality:\n  window: 10\n  min_labels: 20\n", "min_labels 20: must be between 1 and window (10)")
	f("quality:\n  max_accuracy_drop: 1.5\n", "max_accuracy_drop 1.5: must be in [0, 1]")
	f("quality:\n  max_accuracy_drop: 5%\n", "quality: max_accuracy_drop: line 2")
	f("quality:\n  interval: -1s\n", "interval -1s: must be positive")
	f("quality:\n  window: 10\n  window: 20\n", "window given twice")
	f("quality: yes\n", "quality: line 1: want a mapping")
}
