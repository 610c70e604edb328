package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/switchyard-ml/switchyard/card"
	"github.com/switchyard-ml/switchyard/modelstore"
)

const cardSynopsis = `MODEL [VERSION] [--json] [--server URL | --registry DIR [--data-dir DIR]]

Prints the model card of VERSION of MODEL, generated from what switchyard
keeps of it: what the model is (from its ONNX graph), its inputs, outputs,
classes and feature schema, the gate's verdict with the baseline's numbers,
the run and data it was trained on, who published it and why, its rollout
history, and the publisher's --note and --card text. Markdown, or JSON with
--json. VERSION defaults to the version that serves (on a registry without
a server: rollout.json's stable version), else the newest.`

func runCard(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("card", cardSynopsis, stderr)
	var o opsFlags
	o.register(fs)
	asJSON := fs.Bool("json", false, "print the card as JSON (the schema GET /v1/models/{m}/versions/{v}/card answers with Accept: application/json)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usageError(fs, "card takes a MODEL and, optionally, a VERSION")
	}
	model, version := pos[0], 0
	if !modelstore.ValidName(model) {
		return usageError(fs, "%q is not a model name", model)
	}
	if len(pos) == 2 {
		if version, err = strconv.Atoi(pos[1]); err != nil || version <= 0 {
			return usageError(fs, "version %q is not a positive integer", pos[1])
		}
	}
	src, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	if version == 0 {
		models, err := src.Models(ctx, model)
		if err != nil {
			return err
		}
		if version = cardVersion(models[0], src.Live()); version == 0 {
			return fmt.Errorf("model %q has no version", model)
		}
	}
	body, err := src.Card(ctx, model, version, *asJSON)
	if err != nil {
		return err
	}
	_, err = stdout.Write(body)
	return err
}

// cardVersion returns the version whose card card prints by default: the
// one that serves, else the newest; 0 for a model without versions. On
// disk what serves is rollout.json's stable version.
func cardVersion(m modelView, live bool) int {
	switch {
	case live && m.ServingVersion != 0:
		return m.ServingVersion
	case !live && m.Rollout != nil && m.Rollout.Stable != 0:
		return m.Rollout.Stable
	}
	return newest(m)
}

// Card asks the server for the card, as markdown or JSON.
func (r *remoteSource) Card(ctx context.Context, model string, version int, asJSON bool) ([]byte, error) {
	accept := "text/markdown"
	if asJSON {
		accept = "application/json"
	}
	return r.fetch(ctx, "/v1/models/"+url.PathEscape(model)+"/versions/"+strconv.Itoa(version)+"/card", nil, accept)
}

// Card gathers the card from the registry and the tracking store, if
// there is one.
func (l *localSource) Card(ctx context.Context, model string, version int, asJSON bool) ([]byte, error) {
	var src card.Sources
	if l.st != nil { // a nil *tracking.Store is not a nil Store
		src.Store = l.st
	}
	c, err := card.Gather(ctx, src, model, version, modelstore.VersionDir(l.registry, model, version))
	if err != nil {
		return nil, err
	}
	if !asJSON {
		return c.AppendMarkdown(nil), nil
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode the card of %s version %d: %w", model, version, err)
	}
	return append(b, '\n'), nil
}
