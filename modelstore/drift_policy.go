package modelstore

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-ml/switchyard/drift"
)

// DriftPolicy is the drift block of policy.yaml: how the drift monitor
// samples and judges the model's predictions (see drift.Policy for what
// each setting means and drift.DefaultPolicy for the defaults). A field
// left out keeps the default; Apply lays the block over them.
//
//	drift:
//	  sample: 0.25          # share of predictions, by a hash of their id
//	  window_rows: 5000     # a window closes at this many rows...
//	  window: 10m           # ...or this long after its first row
//	  interval: 30s         # how often the windows are judged
//	  dataset_share: 0.5    # share of drifted features that is dataset drift
//	  features:
//	    amount: {test: psi, threshold: 0.2}
//	    country: {threshold: 0.01}
//
// Keys are strict: an unknown or repeated key, or a value of the wrong
// kind, fails with a message naming it. Whether each name under features
// is a column of the model is checked by the drift monitor against each
// version's schema, since a policy outlives its versions: a version whose
// policy names an unknown feature is not judged, and its drift report
// says why.
type DriftPolicy struct {
	Sample       *float64                  `yaml:"sample"`
	WindowRows   *int                      `yaml:"window_rows"`
	Window       *Duration                 `yaml:"window"`
	Interval     *Duration                 `yaml:"interval"`
	DatasetShare *float64                  `yaml:"dataset_share"`
	Features     map[string]drift.Override `yaml:"-"`
}

// UnmarshalYAML decodes the drift block strictly, naming the key of any
// error.
func (d *DriftPolicy) UnmarshalYAML(n *yaml.Node) error {
	return decodeBlock(n, "drift", map[string]func(*yaml.Node) error{
		"sample":        func(v *yaml.Node) error { return decodeScalar(v, &d.Sample) },
		"window_rows":   func(v *yaml.Node) error { return decodeScalar(v, &d.WindowRows) },
		"window":        func(v *yaml.Node) error { return decodeDuration(v, &d.Window) },
		"interval":      func(v *yaml.Node) error { return decodeDuration(v, &d.Interval) },
		"dataset_share": func(v *yaml.Node) error { return decodeScalar(v, &d.DatasetShare) },
		"features":      d.decodeFeatures,
	})
}

// decodeFeatures decodes the features block: a mapping of column names
// to {test, threshold}.
func (d *DriftPolicy) decodeFeatures(n *yaml.Node) error {
	if n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("want a mapping of feature names to {test, threshold}")
	}
	d.Features = map[string]drift.Override{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := d.Features[k.Value]; dup {
			return &settingError{"drift: features", k.Line, fmt.Errorf("%s given twice", k.Value)}
		}
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		var test *string
		var threshold *float64
		err := decodeBlock(v, "drift: features: "+k.Value, map[string]func(*yaml.Node) error{
			"test":      func(v *yaml.Node) error { return decodeString(v, &test) },
			"threshold": func(v *yaml.Node) error { return decodeScalar(v, &threshold) },
		})
		if err != nil {
			return err
		}
		var o drift.Override
		if test != nil {
			o.Test = drift.Test(*test)
		}
		if threshold != nil {
			o.Threshold = *threshold
		}
		d.Features[k.Value] = o
	}
	return nil
}

// Apply returns def, typically drift.DefaultPolicy(), with the settings d
// gives in its place; def is not modified.
func (d *DriftPolicy) Apply(def drift.Policy) drift.Policy {
	p := def
	p.Features = maps.Clone(def.Features)
	if d.Sample != nil {
		p.Sample = *d.Sample
	}
	if d.WindowRows != nil {
		p.WindowRows = *d.WindowRows
	}
	if d.Window != nil {
		p.Window = time.Duration(*d.Window)
	}
	if d.Interval != nil {
		p.Interval = time.Duration(*d.Interval)
	}
	if d.DatasetShare != nil {
		p.DatasetShare = *d.DatasetShare
	}
	for _, name := range slices.Sorted(maps.Keys(d.Features)) {
		if p.Features == nil {
			p.Features = map[string]drift.Override{}
		}
		p.Features[name] = d.Features[name]
	}
	return p
}
