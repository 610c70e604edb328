package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
)

const profileSynopsis = `MODEL [VERSION] [--data CSV --label COL] [--registry DIR] [--force]

Writes the drift reference profile (profile.json) of VERSION of MODEL (default
its newest complete version), for a version published without one: the
distribution of each feature of --data (default the version's evaluation set)
and of the model's score on those rows. The version otherwise stays as it was;
a server reads it when the version next loads. A profile already there is
kept unless --force. Data that do not fit the model or its schema write nothing.`

func runProfile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("profile", profileSynopsis, stderr)
	registry := fs.String("registry", "registry", "registry directory")
	data := fs.String("data", "", "reference data, a `CSV` file with a header row (default the version's eval.csv)")
	label := fs.String("label", "", "the label column of --data, which is not a feature (default the version's evaluation label)")
	force := fs.Bool("force", false, "replace the version's profile.json if it has one")
	var ef engineFlags
	ef.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usageError(fs, "profile takes a MODEL and an optional VERSION")
	}
	model := pos[0]
	if !modelstore.ValidName(model) {
		return usageError(fs, "%q is not a model name", model)
	}
	if *label != "" && *data == "" {
		return usageError(fs, "--label names the label column of --data, which is missing")
	}
	version := 0
	if len(pos) == 2 {
		if version, err = strconv.Atoi(pos[1]); err != nil || version <= 0 {
			return usageError(fs, "version %q: want a positive version number", pos[1])
		}
	} else {
		complete, _, err := modelstore.Versions(*registry, model)
		if err != nil || len(complete) == 0 {
			return fmt.Errorf("profile: model %q has no version in %s", model, *registry)
		}
		version = complete[len(complete)-1]
	}
	if err := ef.init(); err != nil {
		return err
	}
	spec := ops.ProfileSpec{Replace: *force, Engine: ef.cfg}
	if *data != "" {
		lbl := *label
		if lbl == "" {
			m, err := modelstore.ReadManifest(modelstore.VersionDir(*registry, model, version))
			if err == nil {
				lbl = m.EvalLabel
			}
			if lbl == "" {
				return usageError(fs, "--data needs --label: the version names no label column")
			}
		}
		if spec.Data, err = readProfileData(*data, lbl); err != nil {
			return fmt.Errorf("--data: %w", err)
		}
	}
	path, err := ops.WriteProfile(ctx, *registry, model, version, spec)
	if errors.Is(err, ops.ErrProfileExists) {
		return fmt.Errorf("%w (--force replaces it)", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// readProfileData reads the CSV file at path as profile data, as the gate
// reads an evaluation set: a regular file within its size limit.
func readProfileData(path, label string) (*ops.ProfileData, error) {
	b, err := readEvalSet(path)
	if err != nil {
		return nil, err
	}
	return &ops.ProfileData{CSV: b, Label: label, Source: absPath(path)}, nil
}

// profileSources are the data publish may profile: the training data
// (a path) and the evaluation set (read), each with its label column.
type profileSources struct {
	train, trainLabel string
	evalCSV           []byte
	evalLabel         string
	evalPath          string
}

// publishProfile builds the drift profile publish writes into a version:
// from the training data when its label column is known and it is within
// the evaluation set's size limit, else from the evaluation set, else none
// (nil); stderr hears why the training data was passed over. It runs before anything is written, so
// that data that do not fit the model publish nothing.
func publishProfile(ctx context.Context, model []byte, schema *modelstore.Schema, cfg engine.Config, src profileSources, stderr io.Writer) ([]byte, error) {
	var d *ops.ProfileData
	train := src.train != "" && src.trainLabel != ""
	if src.train != "" && !train {
		fmt.Fprintln(stderr, "switchyard publish: --train-data has no --train-label (or --label): the drift profile is not made from it")
	}
	// A training set may be far larger than memory (publish only hashes
	// it as it streams): past the evaluation set's limit it is not read.
	if fi, err := os.Stat(src.train); train && err == nil && fi.Size() > gate.DefaultMaxBytes {
		train = false
		fmt.Fprintf(stderr, "switchyard publish: --train-data holds more than %d bytes: the drift profile is not made from it\n", gate.DefaultMaxBytes)
	}
	switch {
	case train:
		var err error
		if d, err = readProfileData(src.train, src.trainLabel); err != nil {
			return nil, fmt.Errorf("--train-data: %w", err)
		}
	case src.evalCSV != nil:
		d = &ops.ProfileData{CSV: src.evalCSV, Label: src.evalLabel, Source: absPath(src.evalPath)}
	}
	if d == nil {
		return nil, nil
	}
	var features []modelstore.Feature
	if schema != nil {
		features = schema.Features
	}
	b, err := ops.ProfileOf(ctx, model, nil, features, cfg, *d)
	if err != nil {
		return nil, fmt.Errorf("drift profile: %w", err)
	}
	return b, nil
}
