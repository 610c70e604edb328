package onnx

import "google.golang.org/protobuf/encoding/protowire"

// Versions and domains the models of this package declare. onnxruntime 1.24
// accepts all of them.
const (
	// IRVersion is the ONNX IR version written when Model.IRVersion is zero.
	IRVersion = 8
	// OpsetVersion is the default-domain ("ai.onnx") operator set version
	// written when Model.Opsets is nil.
	OpsetVersion = 17
	// MLDomain is the domain of the classical machine-learning operators,
	// such as TreeEnsembleClassifier.
	MLDomain = "ai.onnx.ml"
	// MLOpsetVersion is the MLDomain operator set version written when
	// Model.Opsets is nil and some node uses MLDomain.
	MLOpsetVersion = 3
	// ProducerName is the producer written when Model.ProducerName is empty.
	ProducerName = "switchyard"
)

// Opset imports one version of one operator set.
type Opset struct {
	// Domain is the operator set's domain; empty means the default ONNX
	// domain ("ai.onnx").
	Domain string
	// Version is the operator set version.
	Version int64
}

// Node is one operator application in a graph.
type Node struct {
	// Name optionally identifies the node in onnxruntime's errors and
	// profiles.
	Name string
	// OpType is the operator, such as "Gemm".
	OpType string
	// Domain is the operator's domain; empty means the default ONNX domain.
	Domain string
	// Inputs and Outputs name the tensors the node reads and writes. An
	// empty name skips an optional input.
	Inputs, Outputs []string
	// Attrs are the operator's attributes.
	Attrs []Attr
}

// Graph is a computation graph: nodes in topological order, the constant
// tensors they read, and the declared inputs and outputs.
type Graph struct {
	// Name names the graph.
	Name string
	// Nodes are the operators, sorted so that every tensor is written before
	// it is read.
	Nodes []Node
	// Inputs declares the inputs a caller must feed, in order. Initializers
	// are not listed here.
	Inputs []ValueInfo
	// Outputs declares the outputs, in order.
	Outputs []ValueInfo
	// Initializers are the named constant tensors the nodes read.
	Initializers []Tensor
}

// Model is an ONNX model: a graph plus the versions it targets. Its zero
// values select this package's defaults (see IRVersion, ProducerName and
// Opsets), so a Model needs only a Graph.
//
// A Model holds the caller's slices without copying them. Marshalling does
// not modify the Model, so concurrent Marshal calls are safe as long as
// nobody modifies the Model meanwhile.
type Model struct {
	// IRVersion is the ONNX IR version; zero means IRVersion.
	IRVersion int64
	// ProducerName names the tool that built the model; empty means
	// ProducerName.
	ProducerName string
	// Opsets lists the operator sets the graph uses. Nil means the default
	// domain at OpsetVersion, plus MLDomain at MLOpsetVersion if any node
	// uses it.
	Opsets []Opset
	// Graph is the model's graph.
	Graph Graph
}

// Marshal returns the model encoded as ONNX ModelProto bytes, ready to be
// written to a .onnx file or given to onnxruntime. The returned slice is the
// caller's.
func (m *Model) Marshal() []byte { return m.AppendMarshal(nil) }

// AppendMarshal appends the model's ModelProto encoding to dst and returns
// the extended slice. It allocates only when dst lacks capacity.
//
// AppendMarshal writes what the Model holds without validating it:
// onnxruntime checks the graph when it loads the model.
func (m *Model) AppendMarshal(dst []byte) []byte {
	irVersion := m.IRVersion
	if irVersion == 0 {
		irVersion = IRVersion
	}
	producer := m.ProducerName
	if producer == "" {
		producer = ProducerName
	}
	b := appendVarintField(dst, modelIRVersion, uint64(irVersion))
	b = appendStringField(b, modelProducerName, producer)
	b = appendMessageField(b, modelGraph, func(b []byte) []byte { return appendGraph(b, &m.Graph) })
	if m.Opsets != nil {
		for _, o := range m.Opsets {
			b = appendOpset(b, o)
		}
		return b
	}
	b = appendOpset(b, Opset{Version: OpsetVersion})
	if m.usesML() {
		b = appendOpset(b, Opset{Domain: MLDomain, Version: MLOpsetVersion})
	}
	return b
}

// usesML reports whether any node of m's graph is in MLDomain.
func (m *Model) usesML() bool {
	for i := range m.Graph.Nodes {
		if m.Graph.Nodes[i].Domain == MLDomain {
			return true
		}
	}
	return false
}

// appendOpset appends an opset_import field.
func appendOpset(b []byte, o Opset) []byte {
	return appendMessageField(b, modelOpsetImport, func(b []byte) []byte {
		b = appendStringField(b, opsetDomain, o.Domain)
		return appendVarintField(b, opsetVersion, uint64(o.Version))
	})
}

// appendGraph appends the fields of a GraphProto in field-number order.
func appendGraph(b []byte, g *Graph) []byte {
	for i := range g.Nodes {
		b = appendMessageField(b, graphNode, func(b []byte) []byte { return appendNode(b, &g.Nodes[i]) })
	}
	b = appendStringField(b, graphName, g.Name)
	for i := range g.Initializers {
		b = appendMessageField(b, graphInitializer, func(b []byte) []byte { return appendTensor(b, &g.Initializers[i]) })
	}
	for i := range g.Inputs {
		b = appendMessageField(b, graphInput, func(b []byte) []byte { return appendValueInfo(b, &g.Inputs[i]) })
	}
	for i := range g.Outputs {
		b = appendMessageField(b, graphOutput, func(b []byte) []byte { return appendValueInfo(b, &g.Outputs[i]) })
	}
	return b
}

// appendNode appends the fields of a NodeProto in field-number order. Input
// names are written even when empty, since an empty name marks a skipped
// optional input.
func appendNode(b []byte, n *Node) []byte {
	for _, in := range n.Inputs {
		b = protowire.AppendTag(b, nodeInput, protowire.BytesType)
		b = protowire.AppendString(b, in)
	}
	for _, out := range n.Outputs {
		b = protowire.AppendTag(b, nodeOutput, protowire.BytesType)
		b = protowire.AppendString(b, out)
	}
	b = appendStringField(b, nodeName, n.Name)
	b = appendStringField(b, nodeOpType, n.OpType)
	for i := range n.Attrs {
		b = appendMessageField(b, nodeAttribute, func(b []byte) []byte { return appendAttr(b, &n.Attrs[i]) })
	}
	return appendStringField(b, nodeDomain, n.Domain)
}
