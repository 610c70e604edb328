package main

import (
	"slices"
	"testing"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// TestDemoRetrainPolicy checks that the blocks demo --feedback adds parse
// with the demo's policy, and carry the retrain command as given, however
// odd its path.
func TestDemoRetrainPolicy(t *testing.T) {
	cmd := []string{`/opt/my "odd" dir: #1/switchyard`, "demo", "retrain", "--ort-lib", `C:\ort\lib.so`}
	extra, err := demoRetrainPolicy(cmd)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := modelstore.ParsePolicy([]byte(demoPolicy + extra))
	if err != nil {
		t.Fatalf("the demo's policy with --feedback's blocks: %v\n%s", err, demoPolicy+extra)
	}
	if r := pol.Retrain; r == nil || !slices.Equal(r.Command, cmd) || !slices.Equal(r.On, []string{"accuracy_drop", "estimated_accuracy_drop"}) {
		t.Fatalf("retrain = %+v; want command %q on accuracy_drop and estimated_accuracy_drop", pol.Retrain, cmd)
	}
	if q := pol.Quality; q.Window == nil || *q.Window != 2000 || q.MinLabels == nil || *q.MinLabels != 2000 {
		t.Fatalf("quality = %+v; want a window of 2000, 2000 labels at least", q)
	}
}
