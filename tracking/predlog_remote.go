package tracking

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/switchyard-ml/switchyard/internal/modelname"
)

// This file is the prediction log's side of a log shared by a fleet of
// replicas (package stream): the writer hands each batch it appended,
// as written, to LogConfig.OnBatch; a batch another replica's writer
// wrote comes back through AppendBatch, checked and appended whole; and
// DecodeBatch reads a batch for the sidecars (live quality, drift).

// AppendBatch appends records, a batch of model's records in the
// segment format as a PredictionLog's writer wrote them (on this
// replica or another), to model's log, and returns how many it
// appended. It checks every record first (length, checksum, fields) and
// refuses a batch with one that does not check, or a model name that is
// not valid, with ErrInvalid, appending nothing, so that nothing from
// the network can cut a segment short. With dedup, a batch whose first
// record is already logged is taken for one appended before (a batch is
// appended whole or not at all) and skipped: it returns 0 and no error.
// It is safe for concurrent use with the writer.
func (s *Store) AppendBatch(model string, records []byte, dedup bool) (int, error) {
	if !modelname.Valid(model) {
		return 0, fmt.Errorf("%w: %q is not a model name", ErrInvalid, model)
	}
	first, err := checkBatch(records)
	if err != nil {
		return 0, fmt.Errorf("%w: a batch of %s: %w", ErrInvalid, model, err)
	}
	if first == "" {
		return 0, nil
	}
	if dedup {
		_, ok, err := s.preds.find(model, first)
		if err != nil {
			return 0, fmt.Errorf("tracking: append a batch of %s: %w", model, err)
		}
		if ok {
			return 0, nil
		}
	}
	n, err := s.preds.appendRecords(model, records, time.Now())
	if err != nil {
		return 0, fmt.Errorf("tracking: append a batch of %s: %w", model, err)
	}
	return n, nil
}

// checkBatch checks each record of records and returns the first one's
// id ("" for an empty batch).
func checkBatch(records []byte) (string, error) {
	var first string
	var p Prediction
	for off := 0; off < len(records); {
		if off+recordHeader > len(records) {
			return "", fmt.Errorf("a cut record header at byte %d", off)
		}
		size := int(binary.LittleEndian.Uint32(records[off:]))
		if size > maxRecordPayload || off+recordHeader+size > len(records) {
			return "", fmt.Errorf("a record of %d bytes at byte %d runs past the batch or the limit", size, off)
		}
		payload := records[off+recordHeader : off+recordHeader+size]
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(records[off+4:]) {
			return "", fmt.Errorf("the record at byte %d fails its checksum", off)
		}
		if err := decodeRecordInto(&p, payload, ""); err != nil {
			return "", fmt.Errorf("the record at byte %d: %w", off, err)
		}
		if p.ID == "" {
			return "", fmt.Errorf("the record at byte %d has no prediction id", off)
		}
		if off == 0 {
			first = p.ID
		}
		off += recordHeader + size
	}
	return first, nil
}

// DecodeBatch appends the predictions of records, a batch of model's
// records that AppendBatch accepted or the writer wrote, to dst and
// returns it: each with its id, inputs and scores (copied: nothing
// refers to records), without a label. It fails with ErrInvalid on a
// record that does not check.
func DecodeBatch(dst []Prediction, model string, records []byte) ([]Prediction, error) {
	for off := 0; off < len(records); {
		if off+recordHeader > len(records) {
			return dst, fmt.Errorf("%w: a cut record header at byte %d", ErrInvalid, off)
		}
		size := int(binary.LittleEndian.Uint32(records[off:]))
		if size > maxRecordPayload || off+recordHeader+size > len(records) {
			return dst, fmt.Errorf("%w: a record of %d bytes at byte %d", ErrInvalid, size, off)
		}
		p, err := decodeRecord(records[off+recordHeader:off+recordHeader+size], model)
		if err != nil {
			return dst, errors.Join(ErrInvalid, fmt.Errorf("the record at byte %d: %w", off, err))
		}
		dst = append(dst, p)
		off += recordHeader + size
	}
	return dst, nil
}
