package modelstore

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-ml/switchyard/tracking"
)

// LogPolicy is the log block of policy.yaml: which of the model's
// predictions the prediction log keeps, and for how long (see
// tracking.LogPolicy; tracking.DefaultLogPolicy gives the defaults). A
// field left out keeps the default; Apply lays the block over them.
//
//	log:
//	  sample: 0.1          # share of predictions, by a hash of their id
//	  retention: 72h       # predictions older than this are removed...
//	  max_bytes: 268435456 # ...and the oldest past this size
//
// Keys are strict: an unknown or repeated key, or a value of the wrong
// kind, fails with a message naming it.
type LogPolicy struct {
	Sample    *float64  `yaml:"sample"`
	Retention *Duration `yaml:"retention"`
	MaxBytes  *int      `yaml:"max_bytes"`
}

// UnmarshalYAML decodes the log block strictly, naming the key of any
// error.
func (l *LogPolicy) UnmarshalYAML(n *yaml.Node) error {
	return decodeBlock(n, "log", map[string]func(*yaml.Node) error{
		"sample":    func(v *yaml.Node) error { return decodeScalar(v, &l.Sample) },
		"retention": func(v *yaml.Node) error { return decodeDuration(v, &l.Retention) },
		"max_bytes": func(v *yaml.Node) error { return decodeScalar(v, &l.MaxBytes) },
	})
}

// Apply returns def with the settings the block gives laid over it.
func (l *LogPolicy) Apply(def tracking.LogPolicy) tracking.LogPolicy {
	p := def
	if l.Sample != nil {
		p.Sample = *l.Sample
	}
	if l.Retention != nil {
		p.Retention = time.Duration(*l.Retention)
	}
	if l.MaxBytes != nil {
		p.MaxBytes = int64(*l.MaxBytes)
	}
	return p
}

// validate refuses settings outside their ranges, naming the key.
func (l *LogPolicy) validate() error {
	p := l.Apply(tracking.DefaultLogPolicy())
	switch {
	case !(p.Sample >= 0 && p.Sample <= 1):
		return fmt.Errorf("sample is %v; want a share from 0 to 1", p.Sample)
	case p.Retention <= 0:
		return fmt.Errorf("retention is %v; want a positive duration", p.Retention)
	case p.MaxBytes <= 0:
		return fmt.Errorf("max_bytes is %d; want a positive number of bytes", p.MaxBytes)
	}
	return nil
}
