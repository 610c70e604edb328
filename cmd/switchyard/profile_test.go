package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// readProfile reads version v of m's profile.json, or returns nil when
// it has none.
func readProfile(t *testing.T, reg, m string, v int) *drift.Profile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(modelstore.VersionDir(reg, m, v), drift.ProfileFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var p drift.Profile
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("profile.json of %s/%d: %v", m, v, err)
	}
	return &p
}

// TestPublishProfile: publish makes the version's profile from the
// training data when its label column is known, else from the
// evaluation set, else makes none.
func TestPublishProfile(t *testing.T) {
	dir := t.TempDir()
	onnxPath := writeFile(t, dir, "m.onnx", smallModel(1))
	train := writeFile(t, dir, "train.csv", []byte("x0,x1,x2,y\n1,2,3,0\n4,5,6,1\n7,8,9,0\n"))
	eval := writeFile(t, dir, "eval.csv", []byte("x0,x1,x2,y\n1,2,3,1\n"))
	reg := filepath.Join(dir, "reg")
	f := func(version, rows int, source, note string, args ...string) {
		t.Helper()
		out, err := runCmd(t, append([]string{"publish", "--registry", reg, "--model", "m", "--onnx", onnxPath}, args...)...)
		if err != nil || !strings.Contains(out, note) {
			t.Fatalf("publish %q = %v; want version %d and %q\n%s", args, err, version, note, out)
		}
		p := readProfile(t, reg, "m", version)
		switch {
		case rows == 0 && p != nil:
			t.Errorf("publish %q made a profile from %s; want none", args, p.Source)
		case rows == 0:
		case p == nil || p.Rows != rows || !strings.HasPrefix(p.Source, source) || len(p.Features) != 3 ||
			p.Features[0].Name != "input[0]" || len(p.Scores) != 1 || p.Scores[0].Count != rows:
			t.Errorf("publish %q: profile %+v; want %d rows of %s, input[0]..input[2] and the score", args, p, rows, source)
		}
	}
	f(1, 3, train, "", "--train-data", train, "--eval", eval, "--label", "y")
	f(2, 3, train, "", "--train-data", train, "--train-label", "y")
	f(3, 1, eval, "", "--eval", eval, "--label", "y")
	f(4, 0, "", "--train-data has no --train-label", "--train-data", train)
	f(5, 0, "", "")
}

// TestProfileCommand: switchyard profile gives a version published
// without a profile one, from its evaluation set or the data given, and
// refuses bad input without writing anything.
func TestProfileCommand(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "reg")
	evalCSV := []byte("x0,x1,x2,y\n1,2,3,1\n2,3,4,0\n")
	if _, err := modelstore.Publish(reg, "m", smallModel(1), modelstore.PublishOptions{CreatedBy: "test", EvalCSV: evalCSV, EvalLabel: "y"}); err != nil {
		t.Fatal(err)
	}
	if _, err := modelstore.Publish(reg, "m", smallModel(2), modelstore.PublishOptions{CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	data := writeFile(t, dir, "data.csv", []byte("a,b,c,label\n1,2,3,0\n4,5,6,1\n7,8,9,1\n9,9,9,0\n"))
	misfit := writeFile(t, dir, "misfit.csv", []byte("a,b,label\n1,2,0\n"))

	// Bad input: nothing is written.
	bad := func(wantErr error, want string, args ...string) {
		t.Helper()
		out, err := runCmd(t, append([]string{"profile", "--registry", reg}, args...)...)
		if err == nil || wantErr != nil && !errors.Is(err, wantErr) || !strings.Contains(out+err.Error(), want) {
			t.Errorf("profile %q = %v; want an error (%v) mentioning %q\n%s", args, err, wantErr, want, out)
		}
		for v := 1; v <= 2; v++ {
			if p := readProfile(t, reg, "m", v); p != nil {
				t.Fatalf("profile %q wrote a profile into version %d", args, v)
			}
		}
	}
	bad(errUsage, "profile takes a MODEL")
	bad(errUsage, "profile takes a MODEL", "m", "1", "2")
	bad(errUsage, `"../m" is not a model name`, "../m")
	bad(errUsage, `version "x"`, "m", "x")
	bad(errUsage, "--label names the label column of --data", "m", "--label", "y")
	bad(modelstore.ErrNotFound, `model "m" has no version 3`, "m", "3")
	bad(nil, `model "nope" has no version`, "nope")
	bad(nil, "no evaluation set", "m") // the newest, version 2, has none
	bad(errUsage, "--data needs --label", "m", "2", "--data", data)
	bad(nil, "2 feature columns, the model input has 3", "m", "1", "--data", misfit, "--label", "label")
	bad(os.ErrNotExist, "missing.csv", "m", "1", "--data", filepath.Join(dir, "missing.csv"), "--label", "label")

	out, err := runCmd(t, "profile", "m", "1", "--registry", reg)
	if err != nil || !strings.Contains(out, "wrote "+filepath.Join(modelstore.VersionDir(reg, "m", 1), drift.ProfileFile)) {
		t.Fatalf("profile m 1 = %v\n%s", err, out)
	}
	if p := readProfile(t, reg, "m", 1); p == nil || p.Rows != 2 {
		t.Fatalf("profile of version 1 = %+v; want the 2 rows of its eval set", p)
	}
	if out, err := runCmd(t, "profile", "m", "1", "--registry", reg, "--data", data, "--label", "label"); err == nil || !strings.Contains(out+err.Error(), "--force replaces it") {
		t.Fatalf("profile over a profile = %v\n%s; want a refusal naming --force", err, out)
	}
	if out, err := runCmd(t, "profile", "m", "--registry", reg, "--data", data, "--label", "label"); err != nil {
		t.Fatalf("profile m --data = %v\n%s", err, out)
	}
	if p := readProfile(t, reg, "m", 2); p == nil || p.Rows != 4 || !strings.HasPrefix(p.Source, data) {
		t.Fatalf("profile of version 2 = %+v; want the 4 rows of %s", p, data)
	}
	if out, err := runCmd(t, "profile", "m", "1", "--registry", reg, "--data", data, "--label", "label", "--force"); err != nil {
		t.Fatalf("profile --force = %v\n%s", err, out)
	}
	if p := readProfile(t, reg, "m", 1); p == nil || p.Rows != 4 {
		t.Fatalf("profile of version 1 after --force = %+v; want the 4 rows of %s", p, data)
	}
}
