package tracking

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"time"
)

// A prediction's record in a segment file of the prediction log:
//
//	u32 payload length, little-endian
//	u32 CRC-32C of the payload
//	payload: uvarint-prefixed id, varint time (Unix ns), varint version,
//	         uvarint-prefixed arm, u32-prefixed inputs,
//	         u32 count of scores, then each as a little-endian float64
//
// (The inputs' length and the scores' count are fixed-width so that a
// request can encode its record in place, before it knows them.)
//
// The model is the segment's directory. A record whose length or CRC does
// not check is where the segment's valid data ends: what a crash cut.

// recordHeader is the bytes before a record's payload.
const recordHeader = 8

// maxRecordPayload bounds a payload that a reader accepts: the inputs are
// capped at maxLogInputs and the scores at maxLogScores.
const maxRecordPayload = maxLogInputs + 8*maxLogScores + 1024

// maxLogScores caps the scores kept of one prediction.
const maxLogScores = 4096

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errTorn is where a segment's valid records end.
var errTorn = errors.New("torn or corrupt record")

// appendRecord appends p's record to b.
func appendRecord(b []byte, p *Prediction) []byte {
	start := len(b)
	b = append(b, make([]byte, recordHeader)...)
	b = binary.AppendUvarint(b, uint64(len(p.ID)))
	b = append(b, p.ID...)
	b = binary.AppendVarint(b, p.Time.UnixNano())
	b = binary.AppendVarint(b, int64(p.Version))
	b = binary.AppendUvarint(b, uint64(len(p.Arm)))
	b = append(b, p.Arm...)
	in := p.Inputs
	if len(in) > maxLogInputs {
		in = nil
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(in)))
	b = append(b, in...)
	scores := p.Scores[:min(len(p.Scores), maxLogScores)]
	b = binary.LittleEndian.AppendUint32(b, uint32(len(scores)))
	for _, x := range scores {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	payload := b[start+recordHeader:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
	return b
}

// recordID returns the id of a payload without decoding the rest.
func recordID(payload []byte) ([]byte, error) {
	n, k := binary.Uvarint(payload)
	if k <= 0 || uint64(len(payload)-k) < n {
		return nil, errTorn
	}
	return payload[k : k+int(n)], nil
}

// recordKey returns the id and the time (Unix ns) of a payload, what a
// segment's index holds of it.
func recordKey(payload []byte) ([]byte, int64, error) {
	d := recordDecoder{b: payload}
	id := d.bytes()
	t := d.varint()
	return id, t, d.err
}

// decodeRecord decodes a payload of model's segment.
func decodeRecord(payload []byte, model string) (Prediction, error) {
	var p Prediction
	err := decodeRecordInto(&p, payload, model)
	return p, err
}

// decodeRecordInto decodes a payload of model's segment into p, reusing
// the capacity of p's Inputs and Scores (nil Inputs when there are none).
func decodeRecordInto(p *Prediction, payload []byte, model string) error {
	d := recordDecoder{b: payload}
	p.Model, p.Label, p.LabelTime = model, nil, time.Time{}
	p.ID = string(d.bytes())
	p.Time = time.Unix(0, d.varint())
	p.Version = int(d.varint())
	p.Arm = string(d.bytes())
	in := d.fixed()
	if len(in) > 0 {
		p.Inputs = append(p.Inputs[:0], in...)
	} else {
		p.Inputs = nil
	}
	n := d.u32()
	if d.err == nil && uint64(n)*8 != uint64(len(d.b)) {
		d.err = errTorn
	}
	if d.err != nil {
		return d.err
	}
	p.Scores = p.Scores[:0]
	for i := range int(n) {
		p.Scores = append(p.Scores, math.Float64frombits(binary.LittleEndian.Uint64(d.b[8*i:])))
	}
	return nil
}

// decodeViewInto decodes a payload of a batch the writer wrote into v,
// in place: v.ID and v.Inputs alias payload, and v.Scores are appended
// to scores, which it returns grown. It allocates nothing once scores has
// grown.
func decodeViewInto(v *PredictionView, payload []byte, scores []float64) ([]float64, error) {
	d := recordDecoder{b: payload}
	v.ID = d.bytes()
	v.Time = time.Unix(0, d.varint())
	v.Version = int(d.varint())
	d.bytes() // the arm
	v.Inputs = d.fixed()
	n := d.u32()
	if d.err == nil && uint64(n)*8 != uint64(len(d.b)) {
		d.err = errTorn
	}
	if d.err != nil {
		return scores, d.err
	}
	start := len(scores)
	for i := range int(n) {
		scores = append(scores, math.Float64frombits(binary.LittleEndian.Uint64(d.b[8*i:])))
	}
	v.Scores = scores[start:len(scores):len(scores)]
	return scores, nil
}

// recordDecoder reads a payload's fields in order; the first problem
// sticks in err.
type recordDecoder struct {
	b   []byte
	err error
}

func (d *recordDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.err = errTorn
		return 0
	}
	d.b = d.b[k:]
	return x
}

func (d *recordDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	x, k := binary.Varint(d.b)
	if k <= 0 {
		d.err = errTorn
		return 0
	}
	d.b = d.b[k:]
	return x
}

func (d *recordDecoder) u32() uint32 {
	if d.err != nil || len(d.b) < 4 {
		d.err = errTorn
		return 0
	}
	x := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	return x
}

// fixed reads u32-prefixed bytes.
func (d *recordDecoder) fixed() []byte {
	n := d.u32()
	if d.err != nil || uint64(n) > uint64(len(d.b)) {
		d.err = errTorn
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

func (d *recordDecoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errTorn
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

// readRecordAt reads the payload of the record at off of r, checking its
// length against limit (the segment's valid end) and its CRC.
func readRecordAt(r io.ReaderAt, off, limit int64, buf []byte) ([]byte, error) {
	var h [recordHeader]byte
	if off+recordHeader > limit {
		return nil, errTorn
	}
	if _, err := r.ReadAt(h[:], off); err != nil {
		return nil, fmt.Errorf("read record at %d: %w", off, err)
	}
	n := int64(binary.LittleEndian.Uint32(h[:]))
	if n > maxRecordPayload || off+recordHeader+n > limit {
		return nil, errTorn
	}
	if int64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := r.ReadAt(buf, off+recordHeader); err != nil {
		return nil, fmt.Errorf("read record at %d: %w", off, err)
	}
	if crc32.Checksum(buf, castagnoli) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, errTorn
	}
	return buf, nil
}
