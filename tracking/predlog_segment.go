package tracking

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"syscall"

	"github.com/switchyard-ml/switchyard/internal/sampling"
)

// A segment of the prediction log is a file NAME.seg of one model's
// directory: segMagic, then records (predlog_record.go) appended in
// batches by the one process that holds the file's flock. When the
// writer closes it (it is full, old, or the log stops) it writes
// NAME.idx beside it, and the segment is sealed: never written again.
//
// NAME.idx holds idxMagic, the segment's valid length, its record count,
// its first and last answer times, its smallest and largest id, then an
// entry per record, (a prefix of the hash of its id, its offset) in a uint64, sorted, so that a lookup
// by id reads O(log n) entries. A segment without an index whose flock
// is free was cut by a crash: recoverSegment finds where its valid
// records end, truncates it there and seals it.

// File names and magic numbers of the segments.
const (
	segExt   = ".seg"
	idxExt   = ".idx"
	segMagic = "SYPLOG2\n"
	idxMagic = "SYPIDX2\n"
)

// idxFixed is the bytes of an index's header before its two ids: magic,
// length, count, first and last time, and the two ids' lengths.
const idxFixed = 8 + 8 + 8 + 8 + 8 + 2 + 2

// An index entry is one uint64: the top 32 bits of the hash of a
// record's id above the record's offset, so that a plain sort of the
// entries orders them by hash, and records of the same hash prefix by
// offset. A lookup reads the records its prefix finds and compares their
// ids: with 32 bits, another id shares a prefix once in about four
// billion.
func idxEntry(hash uint64, off int64) uint64 { return hash&^0xffffffff | uint64(uint32(off)) }

// maxSegmentBytes bounds a segment's length, so that an offset fits an
// index entry.
const maxSegmentBytes = 1<<32 - 1

// segInfo is what a segment's index header says of it.
type segInfo struct {
	name             string // NAME, without the extension
	size             int64  // valid bytes, from the start of the file
	count            int64
	minTime, maxTime int64
	minID, maxID     string
	entriesAt        int64 // offset of the first entry in the index file
}

// covers reports whether id may be in the segment.
func (s *segInfo) covers(id string) bool {
	return s.count > 0 && id >= s.minID && id <= s.maxID
}

// widen widens s to n more records whose ids lie within lo..hi and
// whose times lie within tlo..thi.
func (s *segInfo) widen(lo, hi string, tlo, thi, n int64) {
	if n <= 0 {
		return
	}
	if s.count == 0 || tlo < s.minTime {
		s.minTime = tlo
	}
	if s.count == 0 || thi > s.maxTime {
		s.maxTime = thi
	}
	if s.count == 0 || lo < s.minID {
		s.minID = lo
	}
	if s.count == 0 || hi > s.maxID {
		s.maxID = hi
	}
	s.count += n
}

// openSegment is the segment a process is writing for one model: the
// file, whose flock it holds, and the index of the records written.
type openSegment struct {
	path    string // the .seg file
	f       *os.File
	info    segInfo
	created int64 // Unix ns
	// entries index the records written: appended as they are, sorted
	// by a lookup when it finds more than sorted of them sorted, so that
	// writing costs an append and a batch of lookups one sort.
	entries []uint64
	sorted  int
}

// createSegment creates and locks a new segment in dir, named by its
// creation time and a random suffix so that no two writers collide. It
// is created under a temporary name and renamed once locked, so that no
// other process takes it for a crashed segment.
func createSegment(dir, name string, created int64) (*openSegment, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := dir + "/" + name + segExt
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*openSegment, error) {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fail(fmt.Errorf("lock %s: %w", tmp, err))
	}
	if _, err := f.Write([]byte(segMagic)); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	return &openSegment{path: path, f: f, created: created,
		info: segInfo{name: name, size: int64(len(segMagic))}}, nil
}

// append writes buf, whole records, at the end of the segment and
// indexes them, returning how many; a buffer whose records do not check
// is refused whole. A failed write leaves the segment's valid length
// where it was.
func (o *openSegment) append(buf []byte) (int, error) {
	n, entries := 0, len(o.entries)
	// The batch's least and greatest ids and times widen the segment's
	// once it is written, so that an id becomes a string twice a batch,
	// not once a record.
	var lo, hi []byte
	var tlo, thi int64
	for off := 0; off < len(buf); n++ {
		if off+recordHeader > len(buf) {
			o.entries = o.entries[:entries]
			return 0, fmt.Errorf("%w: a cut record header at %d", errTorn, off)
		}
		size := int(binary.LittleEndian.Uint32(buf[off:]))
		if size > maxRecordPayload || off+recordHeader+size > len(buf) {
			o.entries = o.entries[:entries]
			return 0, fmt.Errorf("%w: a record of %d bytes at %d", errTorn, size, off)
		}
		id, t, err := recordKey(buf[off+recordHeader : off+recordHeader+size])
		if err != nil {
			o.entries = o.entries[:entries]
			return 0, fmt.Errorf("record at %d: %w", off, err)
		}
		o.entries = append(o.entries, idxEntry(sampling.Hash(id), o.info.size+int64(off)))
		if n == 0 || bytes.Compare(id, lo) < 0 {
			lo = id
		}
		if n == 0 || bytes.Compare(id, hi) > 0 {
			hi = id
		}
		if n == 0 || t < tlo {
			tlo = t
		}
		if n == 0 || t > thi {
			thi = t
		}
		off += recordHeader + size
	}
	if o.info.size+int64(len(buf)) > maxSegmentBytes {
		o.entries = o.entries[:entries]
		return 0, fmt.Errorf("%w: a batch of %d bytes would take segment %s past 4 GiB", ErrInvalid, len(buf), o.path)
	}
	if _, err := o.f.WriteAt(buf, o.info.size); err != nil {
		o.entries = o.entries[:entries]
		return 0, fmt.Errorf("write %s: %w", o.path, err)
	}
	o.info.size += int64(len(buf))
	o.info.widen(string(lo), string(hi), tlo, thi, int64(n))
	return n, nil
}

// seal writes the segment's index and closes it, releasing its lock.
func (o *openSegment) seal() error {
	err := writeIndex(o.path[:len(o.path)-len(segExt)]+idxExt, &o.info, o.entries)
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeIndex writes the index of a segment with info and entries, to a
// temporary file renamed into place.
func writeIndex(path string, info *segInfo, entries []uint64) error {
	slices.Sort(entries)
	b := make([]byte, 0, idxFixed+len(info.minID)+len(info.maxID)+8*len(entries))
	b = append(b, idxMagic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(info.size))
	b = binary.LittleEndian.AppendUint64(b, uint64(info.count))
	b = binary.LittleEndian.AppendUint64(b, uint64(info.minTime))
	b = binary.LittleEndian.AppendUint64(b, uint64(info.maxTime))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(info.minID)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(info.maxID)))
	b = append(b, info.minID...)
	b = append(b, info.maxID...)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint64(b, e)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write index %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write index %s: %w", path, err)
	}
	return nil
}

// readIndexHeader reads the header of the index at path.
func readIndexHeader(path, name string) (segInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return segInfo{}, err
	}
	defer f.Close()
	var h [idxFixed + 2*1024]byte
	n, err := io.ReadFull(f, h[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return segInfo{}, fmt.Errorf("read index %s: %w", path, err)
	}
	if n < idxFixed || string(h[:8]) != idxMagic {
		return segInfo{}, fmt.Errorf("index %s: not a prediction log index", path)
	}
	le := binary.LittleEndian
	info := segInfo{name: name, size: int64(le.Uint64(h[8:])), count: int64(le.Uint64(h[16:])),
		minTime: int64(le.Uint64(h[24:])), maxTime: int64(le.Uint64(h[32:]))}
	a, z := int(le.Uint16(h[40:])), int(le.Uint16(h[42:]))
	if idxFixed+a+z > n {
		return segInfo{}, fmt.Errorf("index %s: truncated header", path)
	}
	info.minID = string(h[idxFixed : idxFixed+a])
	info.maxID = string(h[idxFixed+a : idxFixed+a+z])
	info.entriesAt = int64(idxFixed + a + z)
	return info, nil
}

// findSealed returns the offsets in the sealed segment of dir with info
// of the records whose id's hash has the prefix id's has, by a binary
// search of its index file.
func findSealed(dir string, info *segInfo, id string) ([]int64, error) {
	f, err := os.Open(dir + "/" + info.name + idxExt)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	want := idxEntry(hashID(id), 0)
	var e [8]byte
	entry := func(i int64) (uint64, error) {
		if _, err := f.ReadAt(e[:], info.entriesAt+8*i); err != nil {
			return 0, fmt.Errorf("read index %s: %w", info.name, err)
		}
		return binary.LittleEndian.Uint64(e[:]), nil
	}
	lo, hi := int64(0), info.count
	for lo < hi {
		mid := lo + (hi-lo)/2
		v, err := entry(mid)
		if err != nil {
			return nil, err
		}
		if v < want {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	var offs []int64
	for i := lo; i < info.count; i++ {
		v, err := entry(i)
		if err != nil {
			return nil, err
		}
		if v>>32 != want>>32 {
			break
		}
		offs = append(offs, int64(uint32(v)))
	}
	return offs, nil
}

// hashID is the hash of a prediction id that the indexes sort by: the
// sampling hash, which is stable across processes and versions.
func hashID(id string) uint64 { return sampling.Hash([]byte(id)) }

// scanSegment calls fn with the offset and payload of each valid record
// of the segment file f, from the start until limit (or, with limit < 0,
// until the first record that does not check), and returns the offset
// where the valid records end. The payload is only valid during fn.
func scanSegment(f *os.File, limit int64, fn func(off int64, payload []byte) bool) (int64, error) {
	var magic [len(segMagic)]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || string(magic[:]) != segMagic {
		return 0, fmt.Errorf("segment %s: not a prediction log segment", f.Name())
	}
	if limit < 0 {
		st, err := f.Stat()
		if err != nil {
			return 0, err
		}
		limit = st.Size()
	}
	r := bufio.NewReaderSize(io.NewSectionReader(f, int64(len(segMagic)), limit-int64(len(segMagic))), 256<<10)
	off := int64(len(segMagic))
	var h [recordHeader]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return off, nil // the end, or a cut header
		}
		n := int64(binary.LittleEndian.Uint32(h[:]))
		if n > maxRecordPayload {
			return off, nil
		}
		if int64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return off, nil
		}
		if crc32.Checksum(buf, castagnoli) != binary.LittleEndian.Uint32(h[4:]) {
			return off, nil
		}
		if !fn(off, buf) {
			return off, nil
		}
		off += recordHeader + n
	}
}

// recoverSegment seals the crashed segment dir/name.seg, which the
// caller has locked through f: it truncates it after its last valid
// record and writes its index.
func recoverSegment(dir, name string, f *os.File) (segInfo, error) {
	info := segInfo{name: name}
	var entries []uint64
	end, err := scanSegment(f, -1, func(off int64, payload []byte) bool {
		p, err := decodeRecord(payload, "")
		if err != nil {
			return false
		}
		info.widen(p.ID, p.ID, p.Time.UnixNano(), p.Time.UnixNano(), 1)
		entries = append(entries, idxEntry(hashID(p.ID), off))
		return true
	})
	if err != nil {
		return info, err
	}
	info.size = end
	if err := f.Truncate(end); err != nil {
		return info, fmt.Errorf("truncate %s: %w", f.Name(), err)
	}
	if err := writeIndex(dir+"/"+name+idxExt, &info, entries); err != nil {
		return info, err
	}
	return readIndexHeader(dir+"/"+name+idxExt, name)
}
