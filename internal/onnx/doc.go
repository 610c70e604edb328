// Package onnx writes ONNX models in pure Go, so that switchyard's tests,
// benchmarks and demo can make the models they serve without Python or
// generated protobuf code.
//
// It owns two layers. The low layer is a typed subset of onnx.proto (Model,
// Graph, Node, Attr, Tensor, ValueInfo) and its encoder, Model.Marshal, which
// writes ModelProto bytes with google.golang.org/protobuf/encoding/protowire.
// The high layer builds whole models, each paired with a Go reference
// implementation of what the model computes, so tests can check onnxruntime's
// numbers against Go's:
//
//   - LogReg: logistic regression, binary as sklearn exports it or multiclass.
//   - MLP and RandomMLP: dense ReLU networks, from tiny to benchmark-sized.
//   - Forest and RandomForest: a TreeEnsembleClassifier as skl2onnx writes a
//     binary random forest.
//   - Typed and Identity: one input per element type switchyard serves, and
//     models of types it must refuse.
//   - Affine: an elementwise model of any declared shape, including one
//     with no batch axis.
//
// Externalize moves a model's large initializers into a separate data
// file, as onnx.save_model(..., save_as_external_data=True) does.
//
// The package leaves running models to others: it never imports onnxruntime
// and does not validate graphs; onnxruntime does that when it loads a model.
// Builders are deterministic, so the same seed always gives the same bytes.
//
// Models and builders are plain values with no internal state; they are safe
// for concurrent use as long as nobody modifies them. A built Model refers to
// its builder's slices without copying them.
//
// Usage:
//
//	mlp := onnx.RandomMLP(1, onnx.ActivationSoftmax, 30, 64, 2)
//	if err := os.WriteFile("model.onnx", mlp.Model().Marshal(), 0o644); err != nil {
//		return err
//	}
//	want := mlp.Predict(x) // x holds N rows of 30 features
package onnx
