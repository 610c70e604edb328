package modelstore

import (
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-ml/switchyard/quality"
)

// QualityPolicy is the quality block of policy.yaml: how the live quality
// monitor measures the model's versions from the labels fed back (see
// quality.Policy for what each setting means and quality.DefaultPolicy
// for the defaults). A field left out keeps the default; Apply lays the
// block over them.
//
//	quality:
//	  window: 1000             # labelled predictions per window (and scores for CBPE)
//	  max_age: 24h             # predictions older than this leave the windows
//	  min_labels: 100          # labels before the live figures count
//	  max_accuracy_drop: 0.05  # live or estimated accuracy below the gate's by more: alarm
//	  interval: 10s            # how often the windows are judged
//
// Keys are strict: an unknown or repeated key, or a value of the wrong
// kind, fails with a message naming it.
type QualityPolicy struct {
	Window          *int      `yaml:"window"`
	MaxAge          *Duration `yaml:"max_age"`
	MinLabels       *int      `yaml:"min_labels"`
	MaxAccuracyDrop *float64  `yaml:"max_accuracy_drop"`
	Interval        *Duration `yaml:"interval"`
}

// UnmarshalYAML decodes the quality block strictly, naming the key of any
// error.
func (q *QualityPolicy) UnmarshalYAML(n *yaml.Node) error {
	return decodeBlock(n, "quality", map[string]func(*yaml.Node) error{
		"window":            func(v *yaml.Node) error { return decodeScalar(v, &q.Window) },
		"max_age":           func(v *yaml.Node) error { return decodeDuration(v, &q.MaxAge) },
		"min_labels":        func(v *yaml.Node) error { return decodeScalar(v, &q.MinLabels) },
		"max_accuracy_drop": func(v *yaml.Node) error { return decodeScalar(v, &q.MaxAccuracyDrop) },
		"interval":          func(v *yaml.Node) error { return decodeDuration(v, &q.Interval) },
	})
}

// Apply returns def, typically quality.DefaultPolicy(), with the settings
// q gives in its place.
func (q *QualityPolicy) Apply(def quality.Policy) quality.Policy {
	p := def
	if q.Window != nil {
		p.Window = *q.Window
	}
	if q.MaxAge != nil {
		p.MaxAge = time.Duration(*q.MaxAge)
	}
	if q.MinLabels != nil {
		p.MinLabels = *q.MinLabels
	}
	if q.MaxAccuracyDrop != nil {
		p.MaxAccuracyDrop = *q.MaxAccuracyDrop
	}
	if q.Interval != nil {
		p.Interval = time.Duration(*q.Interval)
	}
	return p
}
