package modelstore

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-ml/switchyard/internal/suggest"
)

// This file holds the strict YAML decoding of policy.yaml: a block is a
// mapping whose keys must be known and given once, and each value must
// have the YAML type its setting wants, so that a typo or a wrong type is
// an error naming the key and line instead of a default silently kept.

// decodeBlock decodes a mapping whose keys are among those of fields, each
// at most once; path names the block in errors, which are
// *settingErrors. A null block sets nothing.
func decodeBlock(n *yaml.Node, path string, fields map[string]func(*yaml.Node) error) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return &settingError{path, n.Line, errors.New("want a mapping of settings")}
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		decode, ok := fields[k.Value]
		switch {
		case !ok:
			return &settingError{path, k.Line, fmt.Errorf("unknown key %q%s", k.Value, suggest.Hint(k.Value, slices.Sorted(maps.Keys(fields))))}
		case seen[k.Value]:
			return &settingError{path, k.Line, fmt.Errorf("%s given twice", k.Value)}
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if err := decode(v); err != nil {
			if se, ok := err.(*settingError); ok { // from a nested block: already placed
				return se
			}
			return &settingError{path + ": " + k.Value, v.Line, err}
		}
	}
	return nil
}

// decodeScalar decodes a number into a new value at *dst: an integer for
// an int (yaml would truncate 5.5 to 5), an integer or a decimal for a
// float64.
func decodeScalar[T int | float64](v *yaml.Node, dst **T) error {
	var x T
	tag := v.ShortTag()
	if _, isInt := any(x).(int); v.Kind != yaml.ScalarNode || (tag != "!!int" && (isInt || tag != "!!float")) {
		if isInt {
			return fmt.Errorf("%q: want an integer", v.Value)
		}
		return fmt.Errorf("%q: want a number", v.Value)
	}
	if err := v.Decode(&x); err != nil {
		return err
	}
	*dst = &x
	return nil
}

// decodeString decodes a word such as "canary"; rollout.Policy.Validate
// checks which words are allowed.
func decodeString(v *yaml.Node, dst **string) error {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		return fmt.Errorf("want a word such as canary or manual")
	}
	s := v.Value
	*dst = &s
	return nil
}

// decodeDuration decodes Go duration text such as "60s".
func decodeDuration(v *yaml.Node, dst **Duration) error {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		return fmt.Errorf("want a duration such as 60s or 5m")
	}
	d, err := time.ParseDuration(v.Value)
	if err != nil {
		return err
	}
	x := Duration(d)
	*dst = &x
	return nil
}

// Duration is a time.Duration written in YAML as Go duration text.
type Duration time.Duration

// UnmarshalYAML parses text such as "250us" or "2s".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}
