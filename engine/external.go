package engine

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of onnx.proto that finding external initializers needs.
const (
	modelGraph           protowire.Number = 7
	graphInitializer     protowire.Number = 5
	tensorDims           protowire.Number = 1
	tensorDataType       protowire.Number = 2
	tensorExternalData   protowire.Number = 13
	tensorDataLocation   protowire.Number = 14
	tensorRawData        protowire.Number = 9
	entryKey             protowire.Number = 1
	entryValue           protowire.Number = 2
	dataLocationExternal                  = 1
)

// onnxElementSizes maps the fixed-size TensorProto.DataType values to
// their sizes in bytes.
var onnxElementSizes = map[uint64]int64{1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2}

// errExternalData is a model whose external data records cannot be read.
var errExternalData = errors.New("malformed external data record")

// inlineExternal returns model with every top-level graph initializer
// that it stores as external data given inline zeros of the same size
// instead, or model itself when it has none. The result serves only to
// read the model's inputs and outputs: onnxruntime_go's introspection
// takes no session options, so its temporary session cannot be told
// where the external files are (Config.ExternalDataDir), while the
// session that runs the model can. Each tensor's bytes must lie within
// its file, a regular file below dir, so that the zeros never pass what
// the files hold.
func inlineExternal(model []byte, dir string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("external data directory: %w", err)
	}
	defer root.Close()
	var out []byte
	rest, changed := model, false
	for len(rest) > 0 {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		field := rest[:n+m]
		rest = rest[n+m:]
		if num != modelGraph || typ != protowire.BytesType {
			out = append(out, field...)
			continue
		}
		graph, _ := protowire.ConsumeBytes(field[n:])
		g, gc, err := inlineGraph(graph, root)
		if err != nil {
			return nil, err
		}
		changed = changed || gc
		out = protowire.AppendTag(out, num, typ)
		out = protowire.AppendBytes(out, g)
	}
	if !changed {
		return model, nil
	}
	return out, nil
}

// inlineGraph rewrites the external initializers of one GraphProto.
func inlineGraph(graph []byte, root *os.Root) ([]byte, bool, error) {
	var out []byte
	changed := false
	for rest := graph; len(rest) > 0; {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return nil, false, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if m < 0 {
			return nil, false, protowire.ParseError(m)
		}
		field := rest[:n+m]
		rest = rest[n+m:]
		if num != graphInitializer || typ != protowire.BytesType {
			out = append(out, field...)
			continue
		}
		tensor, _ := protowire.ConsumeBytes(field[n:])
		t, ok, err := inlineTensor(tensor, root)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			out = append(out, field...)
			continue
		}
		changed = true
		out = protowire.AppendTag(out, num, typ)
		out = protowire.AppendBytes(out, t)
	}
	return out, changed, nil
}

// inlineTensor returns a TensorProto stored as external data with zeros
// in raw_data instead; ok is false for a tensor stored inline.
func inlineTensor(tensor []byte, root *os.Root) (out []byte, ok bool, err error) {
	var (
		external        bool
		location        string
		offset          int64
		length          = int64(-1)
		elements        = int64(1)
		dataType        uint64
		fieldsToKeep    []byte
		lengthMalformed bool
	)
	for rest := tensor; len(rest) > 0; {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return nil, false, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if m < 0 {
			return nil, false, protowire.ParseError(m)
		}
		field, value := rest[:n+m], rest[n:n+m]
		rest = rest[n+m:]
		switch {
		case num == tensorDataLocation && typ == protowire.VarintType:
			v, _ := protowire.ConsumeVarint(value)
			external = v == dataLocationExternal
			continue
		case num == tensorExternalData && typ == protowire.BytesType:
			entry, _ := protowire.ConsumeBytes(value)
			key, val := entryFields(entry)
			switch key {
			case "location":
				location = val
			case "offset":
				if offset, err = strconv.ParseInt(val, 10, 64); err != nil || offset < 0 {
					return nil, false, fmt.Errorf("%w: offset %q", errExternalData, val)
				}
			case "length":
				l, err := strconv.ParseInt(val, 10, 64)
				lengthMalformed = err != nil || l < 0
				length = l
			}
			continue
		case num == tensorDims && typ == protowire.VarintType:
			d, _ := protowire.ConsumeVarint(value)
			elements *= int64(d)
		case num == tensorDataType && typ == protowire.VarintType:
			dataType, _ = protowire.ConsumeVarint(value)
		}
		fieldsToKeep = append(fieldsToKeep, field...)
	}
	if !external {
		return nil, false, nil
	}
	if length < 0 || lengthMalformed {
		size, known := onnxElementSizes[dataType]
		if lengthMalformed || !known || elements < 0 {
			return nil, false, fmt.Errorf("%w: a tensor's length is missing or invalid", errExternalData)
		}
		length = elements * size
		if length < 0 || size != 0 && length/size != elements {
			return nil, false, fmt.Errorf("%w: a tensor's size overflows", errExternalData)
		}
	}
	fi, err := root.Stat(location)
	switch {
	case err != nil:
		return nil, false, fmt.Errorf("external data file %q: %w", location, err)
	case !fi.Mode().IsRegular():
		return nil, false, fmt.Errorf("%w: %q is not a regular file", errExternalData, location)
	case length > fi.Size() || offset > fi.Size()-length:
		return nil, false, fmt.Errorf("%w: %d bytes at offset %d pass the end of %q (%d bytes)", errExternalData, length, offset, location, fi.Size())
	}
	out = protowire.AppendTag(fieldsToKeep, tensorRawData, protowire.BytesType)
	out = protowire.AppendVarint(out, uint64(length))
	return append(out, make([]byte, length)...), true, nil
}

// entryFields returns the key and value of a StringStringEntryProto.
func entryFields(entry []byte) (key, value string) {
	for len(entry) > 0 {
		num, typ, n := protowire.ConsumeTag(entry)
		if n < 0 {
			return key, value
		}
		m := protowire.ConsumeFieldValue(num, typ, entry[n:])
		if m < 0 {
			return key, value
		}
		if typ == protowire.BytesType {
			b, _ := protowire.ConsumeBytes(entry[n:])
			switch num {
			case entryKey:
				key = string(b)
			case entryValue:
				value = string(b)
			}
		}
		entry = entry[n+m:]
	}
	return key, value
}
