package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/ops"
)

// TestDriftRecord: the drifted traffic shifts amount by 1.5 standard
// deviations, puts every other merchant in driftCountry, leaves the
// other fields alone and stays within the schema's bounds.
func TestDriftRecord(t *testing.T) {
	f, err := demo.BuildFraud(1)
	if err != nil {
		t.Fatal(err)
	}
	shift := driftShift(f.Eval)
	if shift <= 0 {
		t.Fatalf("driftShift = %v; want positive", shift)
	}
	us := float64(len(demo.Countries) - 1)
	for i := range f.Eval.Len() {
		row := f.Eval.Row(i)
		got := driftRecord(row, i, shift)
		for j := range got {
			want := row[j]
			switch {
			case j == demo.Amount:
				want = math.Min(math.Round((row[j]+shift)*100)/100, maxDemoField("amount"))
			case j == demo.Country && i%2 == 0:
				want = us
			}
			if got[j] != want {
				t.Fatalf("driftRecord(row %d)[%d] = %v; want %v", i, j, got[j], want)
			}
		}
	}
	if demo.Countries[len(demo.Countries)-1] != driftCountry {
		t.Fatalf("the last country is %s; the test expects %s", demo.Countries[len(demo.Countries)-1], driftCountry)
	}
}

// TestDemoDriftDetected: judged against the demo model's profile (made
// from its training data, as the demo publishes it), the eval set's rows
// as they are drift in nothing, and drifted by driftRecord in amount and
// country alone.
func TestDemoDriftDetected(t *testing.T) {
	f, err := demo.BuildFraud(1)
	if err != nil {
		t.Fatal(err)
	}
	var train bytes.Buffer
	if err := demo.WriteCSV(&train, f.Train); err != nil {
		t.Fatal(err)
	}
	b, err := ops.ProfileOf(context.Background(), f.Model, nil, demoFeatures(), engine.Config{},
		ops.ProfileData{CSV: train.Bytes(), Label: demo.LabelColumn, Source: "train"})
	if err != nil {
		t.Fatal(err)
	}
	var p drift.Profile
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	shift := driftShift(f.Eval)
	for _, drifted := range []bool{false, true} {
		var got []string
		for j, feat := range demo.Features() {
			col := drift.Column{Name: feat.Name, Kind: drift.Numeric}
			for i := range f.Eval.Len() {
				row := f.Eval.Row(i)
				if drifted {
					row = driftRecord(row, i, shift)
				}
				switch feat.Type {
				case demo.TypeCategory:
					col.Kind, col.Categories = drift.Categorical, append(col.Categories, feat.Values[int(row[j])])
				case demo.TypeBool:
					col.Kind, col.Categories = drift.Categorical, append(col.Categories, map[bool]string{true: "true", false: "false"}[row[j] == 1])
				default:
					col.Numbers = append(col.Numbers, row[j])
				}
			}
			ref := &p.Features[j]
			if ref.Name != feat.Name {
				t.Fatalf("profile feature %d is %s; want %s", j, ref.Name, feat.Name)
			}
			res, err := drift.Compare(ref, col, drift.Override{})
			if err != nil {
				t.Fatalf("Compare(%s) = %v", feat.Name, err)
			}
			if res.Drifted {
				got = append(got, feat.Name)
			}
		}
		want := ""
		if drifted {
			want = "amount country"
		}
		if strings.Join(got, " ") != want {
			t.Errorf("drifted traffic %v: features drifted %q; want %q", drifted, got, want)
		}
	}
}

// TestDemoDriftUsage: --drift drifts the traffic of --serve, so it needs
// both --serve and traffic; without them it is a usage error and nothing
// is published.
func TestDemoDriftUsage(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "reg")
	for _, args := range [][]string{{"--drift"}, {"--drift", "--serve", "--traffic", "0"}} {
		out, err := runCmd(t, append([]string{"demo", "--registry", reg}, args...)...)
		if !errors.Is(err, errUsage) || !strings.Contains(out, "--drift drifts the background traffic of --serve") {
			t.Errorf("demo %q = %v; want a usage error about --drift\n%s", args, err, out)
		}
	}
	if _, err := os.Stat(reg); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused demo made %s (%v)", reg, err)
	}
}
