package respcache

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"slices"
	"unsafe"

	"github.com/switchyard-ml/switchyard/engine"
)

// entry is one stored answer: the load of the version that gave it, the
// inputs it was given and every output it gave. It never changes once
// stored, so lookups read it without locks.
type entry struct {
	load    uint64
	in, out []engine.Tensor
	// cost is what the entry takes in memory, in bytes.
	cost int64
}

// entryOverhead is what an entry takes besides its tensors' shapes and
// data: the entry itself, and the tensors' headers.
var (
	entryOverhead  = int64(unsafe.Sizeof(entry{}))
	tensorOverhead = int64(unsafe.Sizeof(engine.Tensor{}))
)

// newEntry copies in and out into one entry: the tensors, their shapes
// and their data each in one allocation.
func newEntry(load uint64, in, out []engine.Tensor) *entry {
	dims, size := 0, 0
	for _, ts := range [][]engine.Tensor{in, out} {
		for i := range ts {
			dims += len(ts[i].Shape)
			size += len(ts[i].Data)
		}
	}
	tensors := make([]engine.Tensor, 0, len(in)+len(out))
	shapes := make([]int64, 0, dims)
	data := make([]byte, 0, size)
	for _, ts := range [][]engine.Tensor{in, out} {
		for _, t := range ts {
			s, d := len(shapes), len(data)
			shapes, data = append(shapes, t.Shape...), append(data, t.Data...)
			tensors = append(tensors, engine.Tensor{Name: t.Name, DType: t.DType,
				Shape: shapes[s:len(shapes):len(shapes)], Data: data[d:len(data):len(data)]})
		}
	}
	return &entry{load: load, in: tensors[:len(in):len(in)], out: tensors[len(in):],
		cost: entryOverhead + int64(len(tensors))*tensorOverhead + int64(dims)*8 + int64(size)}
}

// answers reports whether e is the answer of the version load to in:
// the same load, and inputs of the same types, shapes and bytes.
func (e *entry) answers(load uint64, in []engine.Tensor) bool {
	if e.load != load || len(e.in) != len(in) {
		return false
	}
	for i := range in {
		a, b := &e.in[i], &in[i]
		if a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) || !bytes.Equal(a.Data, b.Data) {
			return false
		}
	}
	return true
}

// hashInputs hashes the version load and inputs in (element types,
// shapes and bytes) with seed.
func hashInputs(seed maphash.Seed, load uint64, in []engine.Tensor) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var n [8]byte
	word := func(x uint64) {
		binary.LittleEndian.PutUint64(n[:], x)
		h.Write(n[:])
	}
	word(load)
	for i := range in {
		t := &in[i]
		word(uint64(t.DType)<<32 | uint64(len(t.Shape)))
		for _, d := range t.Shape {
			word(uint64(d))
		}
		word(uint64(len(t.Data)))
		h.Write(t.Data)
	}
	return h.Sum64()
}

// copyTensor copies src into dst, reusing dst's Shape and Data.
func copyTensor(dst, src *engine.Tensor) {
	dst.Name, dst.DType = src.Name, src.DType
	dst.Shape = append(dst.Shape[:0], src.Shape...)
	dst.Data = append(dst.Data[:0], src.Data...)
}
