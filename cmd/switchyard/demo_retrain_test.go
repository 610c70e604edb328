package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// exportCSV returns d as switchyard export writes a labelled window of
// version's predictions: prediction_id, time, version and arm, the fields,
// then score, label (fraud or legit) and label_time; its last unlabelled
// rows with an empty label.
func exportCSV(t *testing.T, d *demo.Dataset, version, unlabelled int) []byte {
	t.Helper()
	var rows bytes.Buffer
	if err := demo.WriteCSV(&rows, d); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(rows.String(), "\n"), "\n")
	var out bytes.Buffer
	fields, _ := strings.CutSuffix(lines[0], ","+demo.LabelColumn)
	fmt.Fprintf(&out, "prediction_id,time,version,arm,%s,score,label,label_time\n", fields)
	for i, line := range lines[1:] {
		cut := strings.LastIndexByte(line, ',')
		label := map[string]string{"0": "legit", "1": "fraud"}[line[cut+1:]]
		if i >= len(lines)-1-unlabelled {
			label = ""
		}
		fmt.Fprintf(&out, "p-%d,2026-12-06T07:%02d:%02dZ,%d,stable,%s,0.1,%s,2026-12-06T08:00:00Z\n", i, i/60%60, i%60, version, line[:cut], label)
	}
	return out.Bytes()
}

// TestDemoRetrain runs demo retrain as a retrain: command runs it, its
// flags from the environment, on an export of the shifted world: the
// retrained network passes its gate against the stable version on the
// held-out exported rows and is published as version 3, its verdict
// recorded, with the export's sha256 as its training data and the reason
// and the alarmed version in its run and the audit trail.
func TestDemoRetrain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	if out, err := runCmd(t, "demo", "--registry", reg, "--actor", "ana"); err != nil {
		t.Fatalf("demo = %v\n%s", err, out)
	}
	if out, err := runCmd(t, "promote", demoModel, "2", "--reason", "passed its gate", "--registry", reg); err != nil {
		t.Fatalf("promote = %v\n%s", err, out)
	}
	export := exportCSV(t, demo.GenerateShifted(5, 3040), 2, 40)
	path := writeFile(t, dir, "export.csv", export)
	sum := sha256Hex(export)
	const reason = "accuracy_drop: live accuracy 0.882 is 0.058 below the reference 0.940"
	t.Setenv(envExport, path)
	t.Setenv(envExportSHA256, sum)
	t.Setenv(envRegistry, reg)
	t.Setenv(envModel, demoModel)
	t.Setenv(envDataDir, "")
	t.Setenv(envVersion, "2")
	t.Setenv(envReason, reason)
	out, err := runCmd(t, "demo", "retrain", "--actor", "retrain")
	if err != nil {
		t.Fatalf("demo retrain = %v\n%s", err, out)
	}
	for _, want := range []string{
		"3000 labelled rows (40 unlabelled and 0 without inputs left out), sha256 " + sum,
		"2400 to train on, 600 held out",
		"retrained the network (seed 1) on the original 16000 rows and the 2400 exported ones, each repeated 14 times",
		"published fraud version 3 (neural network (16 ReLU units), retrained",
		"retrained because: " + reason + " (version 2 alarmed)",
		"version 2 serves; a server gates version 3 and starts a canary rollout",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo retrain printed no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "2960 labelled") {
		t.Errorf("the unlabelled rows were counted as labelled:\n%s", out)
	}

	st := openStore(t, filepath.Join(reg, ".switchyard"))
	vs, err := st.Verdicts(ctx, tracking.VerdictQuery{Model: demoModel, Version: 3, Limit: 1})
	if err != nil || len(vs) != 1 || !vs[0].Pass {
		t.Fatalf("verdicts on version 3 = %+v, %v; want one that passed", vs, err)
	}
	mf, err := modelstore.ReadManifest(modelstore.VersionDir(reg, demoModel, 3))
	if err != nil {
		t.Fatal(err)
	}
	if l := mf.Lineage; l == nil || l.DatasetSHA256 != sum || l.Seed == nil || *l.Seed != 1 || !strings.HasSuffix(l.DatasetPath, "/export.csv") {
		t.Fatalf("version 3's lineage = %+v; want the export's sha256 %s, seed 1", mf.Lineage, sum)
	}
	run, err := st.Run(ctx, mf.Lineage.RunID)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{}
	for _, p := range run.Params {
		params[p.Key] = p.Value
	}
	tags := tagsOf(run)
	if params["retrain_reason"] != reason || params["alarmed_version"] != "2" || params["recent_rows"] != "2400" || params["export_sha256"] != sum ||
		tags[tagRetrainReason] != reason || tags[tagRetrainVersion] != "2" || tags[tagRetrainExport] != sum || tags[tracking.TagTrainSHA256] != sum ||
		run.Info.Status != tracking.StatusFinished {
		t.Fatalf("version 3's run: params %v, tags %v, status %s", params, tags, run.Info.Status)
	}
	var train bool
	for _, d := range run.Datasets {
		train = train || d.Role == tracking.RoleTrain && d.SHA256 == sum && d.Rows == 3040
	}
	if !train {
		t.Fatalf("version 3's run datasets = %+v; want the export, 3040 rows, sha256 %s, as its training data", run.Datasets, sum)
	}
	log, err := st.AuditLog(ctx, tracking.AuditQuery{Model: demoModel, Limit: 2})
	if err != nil || len(log) != 2 {
		t.Fatalf("audit = %+v, %v", log, err)
	}
	if e := log[1]; e.Action != "publish" || len(e.Versions) != 1 || e.Versions[0] != 3 || e.Actor != "retrain" ||
		e.Reason != "switchyard demo retrain: "+reason || e.Details["export_sha256"] != sum {
		t.Fatalf("audit entry of the publish = %+v", e)
	}
	if e := log[0]; e.Actor != "gate" || len(e.Versions) != 1 || e.Versions[0] != 3 {
		t.Fatalf("audit entry after the publish = %+v; want the gate's verdict on version 3", e)
	}
}

// TestDemoRetrainFailure checks that each bad export, or none, fails with
// an error that says what is wrong, and publishes nothing.
func TestDemoRetrainFailure(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	if out, err := runCmd(t, "demo", "--registry", reg); err != nil {
		t.Fatalf("demo = %v\n%s", err, out)
	}
	for _, env := range []string{envExport, envExportSHA256, envRegistry, envDataDir, envModel, envVersion, envReason} {
		t.Setenv(env, "")
	}
	good := exportCSV(t, demo.GenerateShifted(5, 300), 2, 0)
	f := func(export []byte, extra []string, usage bool, want string) {
		t.Helper()
		args := append([]string{"demo", "retrain", "--registry", reg}, extra...)
		if export != nil {
			args = append(args, "--export", writeFile(t, dir, "export.csv", export))
		}
		st := openStore(t, filepath.Join(reg, ".switchyard"))
		before, err := st.AuditLog(context.Background(), tracking.AuditQuery{Model: demoModel})
		if err != nil {
			t.Fatal(err)
		}
		out, err := runCmd(t, args...)
		if err == nil || errors.Is(err, errUsage) != usage || !strings.Contains(out+err.Error(), want) {
			t.Fatalf("demo retrain %v = %v (usage error: %v)\n%s\nwant an error saying %q", extra, err, usage, out, want)
		}
		if complete, _, _ := modelstore.Versions(reg, demoModel); len(complete) != 2 {
			t.Fatalf("demo retrain %v: versions %v after its error; want 1 and 2", extra, complete)
		}
		if after, err := st.AuditLog(context.Background(), tracking.AuditQuery{Model: demoModel}); err != nil || len(after) != len(before) {
			t.Fatalf("demo retrain %v: %d audit entries after its error, %d before (%v)", extra, len(after), len(before), err)
		}
	}
	f(nil, nil, true, "no export to retrain on")
	f(nil, []string{"--export", filepath.Join(dir, "missing.csv")}, false, "missing.csv")
	f([]byte{}, nil, false, "empty file")
	header, _, _ := bytes.Cut(good, []byte("\n"))
	f(append(header, '\n'), nil, false, "no labelled rows")
	f(exportCSV(t, demo.GenerateShifted(5, 50), 2, 50), nil, false, "no labelled rows to retrain on (50 unlabelled")
	f(good, []string{"--export-sha256", strings.Repeat("0", 64)}, false, "it changed since it was written")
	f(good, []string{"--version", "two"}, true, `--version "two"`)
	f(good, []string{"--version", "9"}, false, "fraud version 9")
	bad := bytes.Replace(good, []byte(",legit,"), []byte(",maybe,"), 1)
	line := strconv.Itoa(bytes.Count(good[:bytes.Index(good, []byte(",legit,"))], []byte("\n")) + 1)
	f(bad, nil, false, "line "+line+`: label "maybe"`)
	// Too few rows held out to judge on: the five rows held out of 25 are
	// all legit.
	few := demo.GenerateShifted(5, 25)
	clear(few.Y)
	few.Y[0] = 1
	f(exportCSV(t, few, 2, 0), nil, false, "too few labelled rows")
	// Labels that are coin flips: the retrained network cannot rank them,
	// fails the gate's minimum AUC, and is not published.
	noise := demo.GenerateShifted(6, 1000)
	for i := range noise.Y {
		noise.Y[i] = i * 7919 % 13 % 2
	}
	f(exportCSV(t, noise, 2, 0), nil, false, "the retrained network failed its gate, so it is not published")
}
