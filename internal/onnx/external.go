package onnx

import (
	"encoding/binary"
	"math"
	"strconv"
)

// ExternalData locates the elements of a tensor stored outside the model,
// as onnx.save_model(..., save_as_external_data=True) writes them: Length
// bytes at Offset in the file Location, a path relative to the directory
// of the model file.
type ExternalData struct {
	// Location is the data file's name, relative to the model's directory.
	Location string
	// Offset is where the tensor's bytes start in the file.
	Offset int64
	// Length is how many bytes the tensor takes.
	Length int64
}

// dataLocationExternal is TensorProto.DataLocation EXTERNAL.
const dataLocationExternal = 1

// appendExternalData appends a tensor's external_data entries (location,
// offset, length) and its data_location EXTERNAL.
func appendExternalData(b []byte, x *ExternalData) []byte {
	entry := func(b []byte, key, value string) []byte {
		return appendMessageField(b, tensorExternalData, func(b []byte) []byte {
			b = appendStringField(b, stringEntryKey, key)
			return appendStringField(b, stringEntryValue, value)
		})
	}
	b = entry(b, "location", x.Location)
	b = entry(b, "offset", strconv.FormatInt(x.Offset, 10))
	b = entry(b, "length", strconv.FormatInt(x.Length, 10))
	return appendVarintField(b, tensorDataLocation, dataLocationExternal)
}

// Externalize returns a copy of m in which every initializer of at least
// minBytes bytes is stored in the data file location instead of the
// model, one after the other, and the bytes of that file. Like onnx's
// save_as_external_data (whose default threshold is 1024 bytes), it
// writes each tensor's elements little-endian, as raw_data would hold
// them. m is not modified; the returned Model shares m's nodes, inputs
// and outputs.
func Externalize(m *Model, location string, minBytes int) (*Model, []byte) {
	out := *m
	out.Graph.Initializers = make([]Tensor, len(m.Graph.Initializers))
	var data []byte
	for i, t := range m.Graph.Initializers {
		raw := rawBytes(&t)
		if t.External == nil && len(raw) >= minBytes {
			t.External = &ExternalData{Location: location, Offset: int64(len(data)), Length: int64(len(raw))}
			data = append(data, raw...)
		}
		out.Graph.Initializers[i] = t
	}
	return &out, data
}

// rawBytes returns t's elements as raw_data would hold them.
func rawBytes(t *Tensor) []byte {
	switch {
	case t.Floats != nil:
		b := make([]byte, 0, 4*len(t.Floats))
		for _, v := range t.Floats {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	case t.Int64s != nil:
		b := make([]byte, 0, 8*len(t.Int64s))
		for _, v := range t.Int64s {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
		return b
	}
	return t.Raw
}
