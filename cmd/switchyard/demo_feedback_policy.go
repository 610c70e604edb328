package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// demoFeedbackPolicy is what demo --feedback adds to the demo's
// policy.yaml, its retrain command (a JSON array, which YAML reads as a
// flow sequence) put in at %s. The quality monitor compares each
// version's live accuracy with its gate's, in windows of 2,000 labelled
// predictions (100 seconds of the demo's default traffic), judged once a
// window is full, so that the retraining it may start has that many
// labels of the world as it is to learn from: version 2
// scores about 0.94 offline and in the original world, about 0.88 once
// the world shifts, which the bound of 0.03 (four standard deviations of
// a window's accuracy) tells apart. The prediction log it needs is
// switchyard serve --prediction-log, which demo --feedback turns on.
const demoFeedbackPolicy = `# Added by switchyard demo --feedback. Each version's live accuracy, from the
# labels the demo's traffic feeds back, is compared with its gate's in windows
# of 2000 labelled predictions; 0.03 below it is an alarm.
quality:
  window: 2000
  min_labels: 2000
  max_accuracy_drop: 0.03
  interval: 5s
# The alarm retrains the model: switchyard exports the labelled window and runs
# the demo's retraining on it, which publishes a new version for the gate and
# the rollout above to judge. At most one retraining every 10 minutes.
retrain:
  on: [accuracy_drop, estimated_accuracy_drop]
  command: %s
  cooldown: 10m
  timeout: 5m
`

// demoRetrainPolicy returns demoFeedbackPolicy with command as its retrain
// command.
func demoRetrainPolicy(command []string) (string, error) {
	argv, err := json.Marshal(command)
	if err != nil {
		return "", fmt.Errorf("BUG: the demo's retrain command: %w", err)
	}
	return fmt.Sprintf(demoFeedbackPolicy, argv), nil
}

// demoRetrainCommand returns the demo's retrain command: this executable's
// demo retrain, by its absolute path, with the onnxruntime library demo
// was given, if any, by its absolute path too (the server runs the
// command in a directory of its own choosing, and sets the registry and
// the data directory in its environment).
func demoRetrainCommand(ef engineFlags) []string {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	cmd := []string{absPath(exe), "demo", "retrain"}
	if ef.ortLib != "" {
		cmd = append(cmd, "--ort-lib", absPath(ef.ortLib))
	}
	return cmd
}
