package modelstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The alarms that may fire a model's retraining, as RetrainPolicy.On
// names them.
const (
	// RetrainOnDrift is the drift monitor's alarm: the dataset drifts.
	RetrainOnDrift = "drift"
	// RetrainOnAccuracyDrop is the live quality alarm: the accuracy
	// measured on labelled predictions fell below its bound.
	RetrainOnAccuracyDrop = "accuracy_drop"
	// RetrainOnEstimatedAccuracyDrop is the estimate's alarm (CBPE): the
	// accuracy expected before labels arrive fell below its bound.
	RetrainOnEstimatedAccuracyDrop = "estimated_accuracy_drop"
)

// The retrain block's defaults.
const (
	DefaultRetrainCooldown = time.Hour
	DefaultRetrainTimeout  = 30 * time.Minute
)

// retrainTriggers are the words RetrainPolicy.On allows, in the order
// messages list them.
var retrainTriggers = []string{RetrainOnDrift, RetrainOnAccuracyDrop, RetrainOnEstimatedAccuracyDrop}

// RetrainPolicy is the retrain block of policy.yaml: which alarms start
// the model's retraining command, and how often and how long it may run
// (package retrain runs it).
//
//	retrain:
//	  on: [drift, accuracy_drop, estimated_accuracy_drop]
//	  command: ["python3", "retrain.py"]   # argv, no shell
//	  cooldown: 1h                         # between two starts; default 1h
//	  timeout: 30m                         # killed past it; default 30m
//
// Keys are strict: an unknown or repeated key, a value of the wrong kind,
// an alarm not among the three, an empty on or command, a negative
// cooldown or a timeout that is not positive fails with a message naming
// the key. A model without the block (Policy.Retrain nil) is never
// retrained. A decoded RetrainPolicy has its defaults filled in and is
// not modified afterwards.
type RetrainPolicy struct {
	// On lists the alarms that start the command, each once: RetrainOnDrift,
	// RetrainOnAccuracyDrop, RetrainOnEstimatedAccuracyDrop.
	On []string
	// Command is the program and its arguments, run without a shell.
	Command []string
	// Cooldown is the least time between two starts for the model; 0
	// means none.
	Cooldown time.Duration
	// Timeout is how long a run may take before it is killed.
	Timeout time.Duration
}

// Fires reports whether the alarm reason starts the command.
func (r *RetrainPolicy) Fires(reason string) bool {
	return r != nil && slices.Contains(r.On, reason)
}

// UnmarshalYAML decodes the retrain block strictly, naming the key of any
// error, and fills in the defaults.
func (r *RetrainPolicy) UnmarshalYAML(n *yaml.Node) error {
	var on, command []string
	var cooldown, timeout *Duration
	err := decodeBlock(n, "retrain", map[string]func(*yaml.Node) error{
		"on":       func(v *yaml.Node) error { return decodeTriggers(v, &on) },
		"command":  func(v *yaml.Node) error { return decodeArgv(v, &command) },
		"cooldown": func(v *yaml.Node) error { return decodeDuration(v, &cooldown) },
		"timeout":  func(v *yaml.Node) error { return decodeDuration(v, &timeout) },
	})
	if err != nil {
		return err
	}
	missing := func(key, msg string) error { return &settingError{"retrain: " + key, n.Line, errors.New(msg)} }
	switch {
	case on == nil:
		return missing("on", "required: the alarms that start the command, such as [drift, accuracy_drop]")
	case command == nil:
		return missing("command", `required: the program and its arguments, such as ["python3", "retrain.py"]`)
	case cooldown != nil && *cooldown < 0:
		return missing("cooldown", fmt.Sprintf("%v: must not be negative", time.Duration(*cooldown)))
	case timeout != nil && *timeout <= 0:
		return missing("timeout", fmt.Sprintf("%v: must be positive: a run with no end would hold back every later one", time.Duration(*timeout)))
	}
	*r = RetrainPolicy{On: on, Command: command, Cooldown: DefaultRetrainCooldown, Timeout: DefaultRetrainTimeout}
	if cooldown != nil {
		r.Cooldown = time.Duration(*cooldown)
	}
	if timeout != nil {
		r.Timeout = time.Duration(*timeout)
	}
	return nil
}

// decodeTriggers decodes on: a non-empty list of known alarms, each once.
func decodeTriggers(v *yaml.Node, dst *[]string) error {
	words, err := decodeWords(v, "a list of alarms such as [drift, accuracy_drop]")
	if err != nil {
		return err
	}
	if len(words) == 0 {
		return errors.New("empty: name at least one of " + strings.Join(retrainTriggers, ", "))
	}
	for i, w := range words {
		if !slices.Contains(retrainTriggers, w) {
			return fmt.Errorf("%q is not one of %s", w, strings.Join(retrainTriggers, ", "))
		}
		if slices.Contains(words[:i], w) {
			return fmt.Errorf("%q given twice", w)
		}
	}
	*dst = words
	return nil
}

// decodeArgv decodes command: a non-empty list of strings whose first,
// the program, is not empty.
func decodeArgv(v *yaml.Node, dst *[]string) error {
	argv, err := decodeWords(v, `a list of strings, the program then its arguments, such as ["python3", "retrain.py"] (no shell runs it)`)
	if err != nil {
		return err
	}
	if len(argv) == 0 || argv[0] == "" {
		return errors.New(`empty: name the program to run, such as ["python3", "retrain.py"]`)
	}
	*dst = argv
	return nil
}

// decodeWords decodes a list of scalars as strings; want words what is
// expected, for the error.
func decodeWords(v *yaml.Node, want string) ([]string, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, errors.New("want " + want)
	}
	out := make([]string, 0, len(v.Content))
	for i, item := range v.Content {
		if item.Kind == yaml.AliasNode {
			item = item.Alias
		}
		if item.Kind != yaml.ScalarNode || item.ShortTag() == "!!null" {
			return nil, fmt.Errorf("item %d: want %s", i, want)
		}
		out = append(out, item.Value)
	}
	return out, nil
}
