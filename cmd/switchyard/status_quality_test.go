package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestStatusQuality prints a version's live quality, as GET
// /admin/models/{m} gives it, beside the gate's figures.
func TestStatusQuality(t *testing.T) {
	var m modelView
	err := json.Unmarshal([]byte(`{"name": "fraud", "versions": [
	  {"version": 1, "state": "READY", "traffic_bp": 10000},
	  {"version": 2, "state": "READY", "traffic_bp": 0, "quality": {"status": "ok",
	    "live": {"accuracy": 0.9123, "auc": 0.95}, "offline": {"accuracy": 0.941, "auc": 0.898, "log_loss": 0.19},
	    "labelled": 1000, "predicted": 1830, "labelled_share": 0.5464, "label_delay_median_seconds": 5.1,
	    "estimated": {"rows": 1000, "accuracy": 0.925, "auc": 0.93}, "alarms": ["accuracy_drop"]}},
	  {"version": 3, "state": "READY", "traffic_bp": 0, "quality": {"status": "waiting",
	    "reason": "3 of the 100 labelled predictions min_labels asks for", "live": {"rmse": 1.5}, "offline": {},
	    "labelled": 3, "label_delay_median_seconds": 0.25, "alarms": []}}]}`), &m)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	printStatus(&b, []modelView{m}, true)
	out := b.String()
	for _, want := range []string{
		"quality of fraud version 2: ok, 1000 labelled (55% of predictions), label delay 5.1s; accuracy 0.912 live, 0.941 gate; " +
			"auc 0.950 live, 0.898 gate; estimated accuracy 0.925, auc 0.930; ALARM accuracy_drop\n",
		"quality of fraud version 3: waiting (3 of the 100 labelled predictions min_labels asks for), 3 labelled, label delay 250ms; rmse 1.500 live, - gate\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "quality of fraud version 1") {
		t.Errorf("a version without quality has a quality line:\n%s", out)
	}
}
