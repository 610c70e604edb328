package gate

import (
	"context"
	"errors"

	"github.com/switchyard-ml/switchyard/engine"
)

// Layout is where the gate finds a model's features and predictions in
// its signature: one FP32 input of shape [rows, Width], and the first
// float output of shape [rows, k >= 2] (class probabilities, Classes = k)
// or [rows] / [rows, 1] (a regressor's value, Classes = 0).
type Layout struct {
	// Input and Output index the signature's inputs and outputs.
	Input, Output int
	// Width is the features per row; Classes as in Subject.
	Width, Classes int
}

// LayoutOf finds the layout of a model, or says why the gate cannot
// evaluate it.
func LayoutOf(sig *engine.Signature) (Layout, error) {
	return Layout{}, errors.New("gate.LayoutOf: not implemented yet")
}

// Decode converts the output tensor of rows rows into dst
// (rows*max(1, Classes) values).
func (l Layout) Decode(out *engine.Tensor, rows int, dst []float64) error {
	return errors.New("gate.Layout.Decode: not implemented yet")
}

// SessionPredictor runs an onnxruntime session directly, for switchyard
// eval, which evaluates model files outside any server.
func SessionPredictor(s *engine.Session, l Layout) Predictor {
	return nil
}

var _ = context.Background
