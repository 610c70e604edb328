package engine

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Graph is what an ONNX model says of itself beyond its signature: the
// tool that produced it, the operator sets and operators of its main
// graph, and the class labels a classifier's nodes carry. ReadGraph
// reads it without onnxruntime. It is a plain value; its slices are the
// caller's.
type Graph struct {
	// IRVersion is the ONNX IR version the model declares.
	IRVersion int64
	// ProducerName and ProducerVersion name the tool that wrote the
	// model, such as "skl2onnx" "1.17.0"; empty when it did not say.
	ProducerName, ProducerVersion string
	// Name is the main graph's name.
	Name string
	// DocString is the model's own description, at most maxGraphText
	// bytes (longer ones are cut).
	DocString string
	// Opsets are the operator sets the model imports, in file order.
	Opsets []Opset
	// Ops counts the main graph's nodes by operator, sorted by domain
	// then type. Nodes of subgraphs (the branches of If, the body of
	// Loop) are not counted.
	Ops []OpCount
	// ClassLabels are the class labels of the first node that declares
	// them (classlabels_strings or classlabels_int64s, as ZipMap and the
	// ai.onnx.ml classifiers do), integers written in decimal; nil when
	// no node does.
	ClassLabels []string
}

// Opset is one operator set a model imports.
type Opset struct {
	// Domain is the operator set's domain; "" is the default ONNX domain
	// (ai.onnx).
	Domain  string
	Version int64
}

// OpCount is how many nodes of a graph apply one operator.
type OpCount struct {
	// Domain is the operator's domain; "" is the default ONNX domain.
	Domain string
	// Type is the operator, such as "Gemm" or "TreeEnsembleClassifier".
	Type  string
	Count int
}

// Field numbers of onnx.proto that ReadGraph needs, beyond those of
// external.go.
const (
	modelIRVersion       protowire.Number = 1
	modelProducerName    protowire.Number = 2
	modelProducerVersion protowire.Number = 3
	modelDocString       protowire.Number = 6
	modelOpsetImport     protowire.Number = 8
	opsetDomain          protowire.Number = 1
	opsetVersion         protowire.Number = 2
	graphNode            protowire.Number = 1
	graphName            protowire.Number = 2
	nodeOpType           protowire.Number = 4
	nodeAttribute        protowire.Number = 5
	nodeDomain           protowire.Number = 7
	attrName             protowire.Number = 1
	attrInts             protowire.Number = 8
	attrStrings          protowire.Number = 9
)

// Bounds of what ReadGraph keeps: names and labels are cut at
// maxGraphName bytes, a doc string at maxGraphText, and at most
// maxClassLabels labels are kept.
const (
	maxGraphName   = 1 << 10
	maxGraphText   = 4 << 10
	maxClassLabels = 1 << 12
)

// ErrGraph is returned by ReadGraph for bytes that are not an ONNX model
// it can read.
var ErrGraph = errors.New("engine: malformed ONNX model")

// ReadGraphFile reads the Graph of the ONNX model at path; see ReadGraph.
func ReadGraphFile(path string) (*Graph, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read graph: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read graph: %w", err)
	}
	g, err := ReadGraph(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("read graph of %s: %w", path, err)
	}
	return g, nil
}

// ReadGraph reads the Graph of the ONNX model (ModelProto bytes) of size
// bytes in r. It walks the protobuf fields in place, skipping what it does
// not need (initializers above all), so it reads a few kilobytes of a
// model of any size and holds none of it. It does not validate the graph:
// onnxruntime does that when it loads the model. Bytes that do not parse
// give an error wrapping ErrGraph.
func ReadGraph(r io.ReaderAt, size int64) (*Graph, error) {
	w := &walker{r: r, size: size}
	g := &Graph{}
	ops := map[[2]string]int{}
	err := w.fields(0, size, func(f field) error {
		switch {
		case f.num == modelIRVersion && f.typ == protowire.VarintType:
			g.IRVersion = int64(f.varint)
		case f.num == modelProducerName && f.typ == protowire.BytesType:
			return w.text(f, maxGraphName, &g.ProducerName)
		case f.num == modelProducerVersion && f.typ == protowire.BytesType:
			return w.text(f, maxGraphName, &g.ProducerVersion)
		case f.num == modelDocString && f.typ == protowire.BytesType:
			return w.text(f, maxGraphText, &g.DocString)
		case f.num == modelOpsetImport && f.typ == protowire.BytesType:
			var o Opset
			err := w.fields(f.start, f.end, func(f field) error {
				switch {
				case f.num == opsetDomain && f.typ == protowire.BytesType:
					return w.text(f, maxGraphName, &o.Domain)
				case f.num == opsetVersion && f.typ == protowire.VarintType:
					o.Version = int64(f.varint)
				}
				return nil
			})
			g.Opsets = append(g.Opsets, o)
			return err
		case f.num == modelGraph && f.typ == protowire.BytesType:
			return w.graph(f, g, ops)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for k, n := range ops {
		g.Ops = append(g.Ops, OpCount{Domain: k[0], Type: k[1], Count: n})
	}
	slices.SortFunc(g.Ops, func(a, b OpCount) int { return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.Type, b.Type)) })
	return g, nil
}

// graph reads the GraphProto in f into g, counting its nodes in ops.
func (w *walker) graph(f field, g *Graph, ops map[[2]string]int) error {
	return w.fields(f.start, f.end, func(f field) error {
		switch {
		case f.num == graphName && f.typ == protowire.BytesType:
			return w.text(f, maxGraphName, &g.Name)
		case f.num == graphNode && f.typ == protowire.BytesType:
			var domain, op string
			var labels []string
			err := w.fields(f.start, f.end, func(f field) error {
				switch {
				case f.num == nodeOpType && f.typ == protowire.BytesType:
					return w.text(f, maxGraphName, &op)
				case f.num == nodeDomain && f.typ == protowire.BytesType:
					return w.text(f, maxGraphName, &domain)
				case f.num == nodeAttribute && f.typ == protowire.BytesType && g.ClassLabels == nil && labels == nil:
					var err error
					labels, err = w.classLabels(f)
					return err
				}
				return nil
			})
			if err != nil {
				return err
			}
			if domain == "ai.onnx" {
				domain = ""
			}
			ops[[2]string{domain, op}]++
			if g.ClassLabels == nil {
				g.ClassLabels = labels
			}
		}
		return nil
	})
}

// classLabels returns the labels of a node's attribute f when it is
// classlabels_strings or classlabels_int64s, and nil otherwise.
func (w *walker) classLabels(f field) ([]string, error) {
	var name string
	var strs []string
	var ints []int64
	err := w.fields(f.start, f.end, func(f field) error {
		switch {
		case f.num == attrName && f.typ == protowire.BytesType:
			if err := w.text(f, maxGraphName, &name); err != nil {
				return err
			}
			if name != "classlabels_strings" && name != "classlabels_int64s" {
				return errSkip // the name comes first: the rest need not be read
			}
		case f.num == attrStrings && f.typ == protowire.BytesType:
			if len(strs) >= maxClassLabels {
				return nil
			}
			var s string
			if err := w.text(f, maxGraphName, &s); err != nil {
				return err
			}
			strs = append(strs, s)
		case f.num == attrInts && f.typ == protowire.VarintType:
			ints = append(ints, int64(f.varint))
		case f.num == attrInts && f.typ == protowire.BytesType: // packed
			if f.end-f.start > int64(maxClassLabels*binaryMaxVarint) {
				return nil // far more than labels: not an attribute of labels
			}
			b, err := w.bytes(f.start, f.end)
			if err != nil {
				return err
			}
			for len(b) > 0 {
				v, n := protowire.ConsumeVarint(b)
				if n < 0 {
					return fmt.Errorf("%w: %w", ErrGraph, protowire.ParseError(n))
				}
				ints, b = append(ints, int64(v)), b[n:]
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errSkip) {
		return nil, err
	}
	switch name {
	case "classlabels_strings":
		return slices.Clip(strs), nil
	case "classlabels_int64s":
		out := make([]string, 0, min(len(ints), maxClassLabels))
		for _, v := range ints[:min(len(ints), maxClassLabels)] {
			out = append(out, strconv.FormatInt(v, 10))
		}
		return out, nil
	}
	return nil, nil
}

// errSkip stops a walk of fields that need not be read further.
var errSkip = errors.New("skip")

// field is one protobuf field of a message: its number and wire type,
// and its value, a varint or the span [start, end) of a length-delimited
// value.
type field struct {
	num        protowire.Number
	typ        protowire.Type
	varint     uint64
	start, end int64
}

// walker reads protobuf fields in place from r, through a window of the
// bytes around the current position so that walking small fields costs
// few reads.
type walker struct {
	r       io.ReaderAt
	size    int64
	win     []byte
	winFrom int64
}

// windowSize is how many bytes walker reads at once.
const windowSize = 32 << 10

// peek returns up to n bytes from off (fewer at the end of the model).
func (w *walker) peek(off int64, n int) ([]byte, error) {
	if off >= w.winFrom && off+int64(n) <= w.winFrom+int64(len(w.win)) {
		return w.win[off-w.winFrom : off-w.winFrom+int64(n)], nil
	}
	if w.win == nil {
		w.win = make([]byte, windowSize)
	}
	w.win = w.win[:min(int64(cap(w.win)), w.size-off)]
	if k, err := w.r.ReadAt(w.win, off); k < len(w.win) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		w.win = w.win[:0]
		return nil, fmt.Errorf("%w: %w", ErrGraph, err)
	}
	w.winFrom = off
	return w.win[:min(n, len(w.win))], nil
}

// bytes returns a copy of the bytes [start, end).
func (w *walker) bytes(start, end int64) ([]byte, error) {
	out := make([]byte, end-start)
	if k, err := w.r.ReadAt(out, start); k < len(out) {
		return nil, fmt.Errorf("%w: %w", ErrGraph, err)
	}
	return out, nil
}

// text sets *s to the string value of f, cut at max bytes.
func (w *walker) text(f field, max int64, s *string) error {
	b, err := w.bytes(f.start, min(f.end, f.start+max))
	if err != nil {
		return err
	}
	*s = string(b)
	return nil
}

// fields calls fn for each field of the message in [start, end), in
// order, and stops at fn's first error.
func (w *walker) fields(start, end int64, fn func(field) error) error {
	if end > w.size {
		return fmt.Errorf("%w: a field ends past the model's %d bytes", ErrGraph, w.size)
	}
	const maxHeader = 2 * binaryMaxVarint // a tag and a length or varint value
	for off := start; off < end; {
		b, err := w.peek(off, int(min(maxHeader, end-off)))
		if err != nil {
			return err
		}
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %w", ErrGraph, protowire.ParseError(n))
		}
		f := field{num: num, typ: typ}
		b = b[n:]
		var m int
		switch typ {
		case protowire.VarintType:
			f.varint, m = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			m = 4
		case protowire.Fixed64Type:
			m = 8
		case protowire.BytesType:
			var l uint64
			l, m = protowire.ConsumeVarint(b)
			if m >= 0 {
				f.start = off + int64(n+m)
				if l > uint64(end-f.start) {
					return fmt.Errorf("%w: a field of %d bytes passes the end of its message", ErrGraph, l)
				}
				f.end = f.start + int64(l)
				m += int(l)
			}
		default:
			return fmt.Errorf("%w: wire type %d", ErrGraph, typ)
		}
		if m < 0 {
			return fmt.Errorf("%w: %w", ErrGraph, protowire.ParseError(m))
		}
		off += int64(n + m)
		if off > end {
			return fmt.Errorf("%w: a field passes the end of its message", ErrGraph)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// binaryMaxVarint is the longest varint, in bytes.
const binaryMaxVarint = 10
