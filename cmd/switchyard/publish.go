package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/switchyard-ml/switchyard/modelstore"
)

func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("publish", "--registry DIR --model NAME --onnx FILE [--note TEXT]", stderr)
	registry := fs.String("registry", "registry", "registry directory")
	model := fs.String("model", "", "model name (required)")
	onnxPath := fs.String("onnx", "", "ONNX file to publish (required)")
	note := fs.String("note", "", "description for the model card")
	createdBy := fs.String("created-by", defaultCreator(), "who publishes the version")
	var ef engineFlags
	ef.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *model == "" || *onnxPath == "" {
		fmt.Fprintln(stderr, "switchyard publish: --model and --onnx are required")
		fs.Usage()
		return errUsage
	}
	data, err := os.ReadFile(*onnxPath)
	if err != nil {
		return err
	}
	if err := ef.init(); err != nil {
		return err
	}
	v, err := modelstore.Publish(*registry, *model, data, modelstore.PublishOptions{
		Description: *note,
		CreatedBy:   *createdBy,
		Engine:      ef.cfg,
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, v)
	return nil
}

func defaultCreator() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
