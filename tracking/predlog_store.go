package tracking

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchyard-ml/switchyard/internal/modelname"
)

// segmentLog is the prediction log on disk: under PredictionsDir, a
// directory per model holding its segments (predlog_segment.go). Appends
// come from one goroutine (the PredictionLog's writer, or a test); reads
// may run beside them, in this process or another. Reads list the
// directories afresh, so they see other processes' segments; what this
// process is writing they see up to its last complete batch.
type segmentLog struct {
	dir      string
	maxBytes int64
	maxAge   time.Duration

	mu    sync.Mutex
	open  map[string]*openSegment // by model: the segment this process writes
	infos map[string]segInfo      // by path of the .idx: a sealed segment's header
	buf   []byte                  // the records of the batch being appended
}

// PredictionsDir is the directory of the prediction log's segments in
// the store's directory.
const PredictionsDir = "predictions"

// Defaults of a segment's bounds: a segment is sealed at this size or
// this long after it was created, whichever comes first, so that the
// retention by age and by size removes the log in steps of at most this.
const (
	DefaultSegmentBytes = 32 << 20
	DefaultSegmentAge   = time.Hour
)

func newSegmentLog(dir string, maxBytes int64, maxAge time.Duration) *segmentLog {
	if maxBytes <= 0 {
		maxBytes = DefaultSegmentBytes
	}
	if maxAge <= 0 {
		maxAge = DefaultSegmentAge
	}
	return &segmentLog{dir: filepath.Join(dir, PredictionsDir), maxBytes: maxBytes, maxAge: maxAge,
		open: map[string]*openSegment{}, infos: map[string]segInfo{}}
}

// append writes ps, grouped by model, each group at the end of its
// model's open segment, rotating segments past their bounds.
func (l *segmentLog) append(ps []Prediction, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for start := 0; start < len(ps); {
		model := ps[start].Model
		end := start + 1
		for end < len(ps) && ps[end].Model == model {
			end++
		}
		if err := l.appendModel(model, ps[start:end], now); err != nil {
			errs = append(errs, fmt.Errorf("model %s: %w", model, err))
		}
		start = end
	}
	return errors.Join(errs...)
}

// appendModel appends ps, all of model, to its open segment.
func (l *segmentLog) appendModel(model string, ps []Prediction, now time.Time) error {
	l.buf = l.buf[:0]
	for i := range ps {
		l.buf = appendRecord(l.buf, &ps[i])
	}
	_, err := l.appendLocked(model, l.buf, now)
	return err
}

// appendRecords appends data, whole records of model, to its open
// segment, rotating segments past their bounds, and returns how many
// records it held.
func (l *segmentLog) appendRecords(model string, data []byte, now time.Time) (int, error) {
	if !modelname.Valid(model) {
		return 0, fmt.Errorf("%w: %q is not a model name", ErrInvalid, model)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appendLocked(model, data, now)
}

// appendLocked appends data to model's open segment; l.mu is held.
func (l *segmentLog) appendLocked(model string, data []byte, now time.Time) (int, error) {
	o := l.open[model]
	if o != nil && (o.info.size >= l.maxBytes || now.UnixNano()-o.created >= int64(l.maxAge)) {
		if err := l.sealLocked(model); err != nil {
			return 0, err
		}
		o = nil
	}
	if o == nil {
		var suffix [4]byte
		rand.Read(suffix[:])
		name := fmt.Sprintf("%016x-%s", now.UnixNano(), hex.EncodeToString(suffix[:]))
		var err error
		if o, err = createSegment(filepath.Join(l.dir, model), name, now.UnixNano()); err != nil {
			return 0, fmt.Errorf("new segment: %w", err)
		}
		l.open[model] = o
	}
	return o.append(data)
}

// sealLocked seals model's open segment; l.mu is held.
func (l *segmentLog) sealLocked(model string) error {
	o := l.open[model]
	if o == nil {
		return nil
	}
	delete(l.open, model)
	if o.info.count == 0 { // nothing written: no segment to keep
		o.f.Close()
		return os.Remove(o.path)
	}
	return o.seal()
}

// close seals every open segment.
func (l *segmentLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for model := range l.open {
		errs = append(errs, l.sealLocked(model))
	}
	return errors.Join(errs...)
}

// sealOld seals the open segments begun maxAge or longer before now.
func (l *segmentLog) sealOld(now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for model, o := range l.open {
		if now.UnixNano()-o.created >= int64(l.maxAge) {
			errs = append(errs, l.sealLocked(model))
		}
	}
	return errors.Join(errs...)
}

// models lists the models with a directory in the log.
func (l *segmentLog) models() ([]string, error) {
	ents, err := os.ReadDir(l.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && modelname.Valid(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// segment is one segment of a model as a reader sees it: sealed, with its
// index header; this process's open one, with its valid length; or
// another process's open one (or a crashed one it could not recover),
// read up to its first record that does not check.
type segment struct {
	model string
	name  string
	info  segInfo // sealed: the header; open: as written so far
	state segState
	open  *openSegment // this process's open segment
}

type segState int

const (
	segSealed segState = iota
	segOwn
	segForeign
)

// segments lists model's segments in the order they were created
// (their names begin with the creation time). A crashed segment whose
// lock is free is recovered (truncated and sealed) on the way.
func (l *segmentLog) segments(model string) ([]segment, error) {
	dir := filepath.Join(l.dir, model)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, e := range ents {
		n := e.Name()
		if base, ok := strings.CutSuffix(n, segExt); ok {
			names[base] = true
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]segment, 0, len(names))
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range names {
			if !yield(n) {
				return
			}
		}
	}) {
		s, ok, err := l.segmentLocked(model, dir, name)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// segmentLocked describes model's segment name in dir; ok is false for a
// segment that went away meanwhile. l.mu is held.
func (l *segmentLog) segmentLocked(model, dir, name string) (segment, bool, error) {
	s := segment{model: model, name: name}
	if o := l.open[model]; o != nil && o.info.name == name {
		s.state, s.open, s.info = segOwn, o, o.info
		return s, true, nil
	}
	idx := filepath.Join(dir, name+idxExt)
	if info, ok := l.infos[idx]; ok {
		s.info = info
		return s, true, nil
	}
	info, err := readIndexHeader(idx, name)
	if err == nil {
		l.infos[idx] = info
		s.info = info
		return s, true, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return s, false, err
	}
	// No index: open elsewhere, or crashed.
	f, err := os.OpenFile(filepath.Join(dir, name+segExt), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		s.state, s.info.size = segForeign, -1
		return s, true, nil
	}
	if info, err = recoverSegment(dir, name, f); err != nil {
		return s, false, fmt.Errorf("recover segment %s/%s: %w", model, name, err)
	}
	l.infos[idx] = info
	s.info = info
	return s, true, nil
}

// file opens the segment's data file.
func (l *segmentLog) file(s *segment) (*os.File, error) {
	return os.Open(filepath.Join(l.dir, s.model, s.name+segExt))
}

// find returns the prediction id of model (every model when model is
// ""), or false: one lookup of a finder.
func (l *segmentLog) find(model, id string) (Prediction, bool, error) {
	return l.finder(model).find(id)
}

// finder looks predictions of a model (every model when model is "") up
// by id in a snapshot of the log's segments, taken at its first lookup
// and kept for the next ones, so that a batch of lookups (the labels of
// a feedback request, an export's) lists the segments, a directory read
// each, once rather than once a lookup. The segments are searched newest
// first, where the predictions that get labels mostly are: a check of
// each one's range of ids, then a binary search in the index of one that
// may hold it. A lookup that misses takes a fresh snapshot and searches
// again, so that a prediction written since is found as a lone lookup
// finds it. Not safe for concurrent use.
type finder struct {
	l      *segmentLog
	model  string
	models []string             // the models searched, in order
	segs   map[string][]segment // nil until the first lookup
}

// finder returns a finder of model's predictions ("": every model's).
func (l *segmentLog) finder(model string) *finder { return &finder{l: l, model: model} }

// find returns the prediction id, or false.
func (f *finder) find(id string) (Prediction, bool, error) {
	if f.segs != nil {
		if p, ok, err := f.search(id); ok || err != nil {
			return p, ok, err
		}
	}
	if err := f.snapshot(); err != nil {
		return Prediction{}, false, err
	}
	return f.search(id)
}

// snapshot lists the models' segments.
func (f *finder) snapshot() error {
	f.models = []string{f.model}
	if f.model == "" {
		var err error
		if f.models, err = f.l.models(); err != nil {
			return err
		}
	}
	f.segs = make(map[string][]segment, len(f.models))
	for _, m := range f.models {
		segs, err := f.l.segments(m)
		if err != nil {
			return err
		}
		f.segs[m] = segs
	}
	return nil
}

// search looks for id in the snapshot, each model's segments newest
// first.
func (f *finder) search(id string) (Prediction, bool, error) {
	for _, m := range f.models {
		segs := f.segs[m]
		for i := len(segs) - 1; i >= 0; i-- {
			p, ok, err := f.l.findIn(&segs[i], id)
			if err != nil || ok {
				return p, ok, err
			}
		}
	}
	return Prediction{}, false, nil
}

// findIn looks for id in segment s.
func (l *segmentLog) findIn(s *segment, id string) (Prediction, bool, error) {
	var offs []int64
	switch s.state {
	case segSealed:
		if !s.info.covers(id) {
			return Prediction{}, false, nil
		}
		var err error
		if offs, err = findSealed(filepath.Join(l.dir, s.model), &s.info, id); err != nil {
			return Prediction{}, false, err
		}
	case segOwn:
		if !s.info.covers(id) {
			return Prediction{}, false, nil
		}
		offs, s.info.size = s.open.lookup(id, &l.mu)
	}
	f, err := l.file(s)
	if errors.Is(err, fs.ErrNotExist) { // removed by retention meanwhile
		return Prediction{}, false, nil
	}
	if err != nil {
		return Prediction{}, false, err
	}
	defer f.Close()
	if s.state == segForeign {
		var found Prediction
		var ok bool
		var derr error
		_, err := scanSegment(f, -1, func(_ int64, payload []byte) bool {
			if rid, err := recordID(payload); err != nil || string(rid) != id {
				return true
			}
			found, derr = decodeRecord(payload, s.model)
			ok = derr == nil
			return false
		})
		return found, ok, errors.Join(err, derr)
	}
	var buf []byte
	for _, off := range offs {
		payload, err := readRecordAt(f, off, s.info.size, buf)
		if err != nil {
			return Prediction{}, false, fmt.Errorf("segment %s/%s: %w", s.model, s.name, err)
		}
		buf = payload
		if rid, err := recordID(payload); err == nil && string(rid) == id {
			p, err := decodeRecord(payload, s.model)
			return p, err == nil, err
		}
	}
	return Prediction{}, false, nil
}

// lookup returns the offsets of this segment's records whose id hashes
// as id does, and the segment's valid length, taking mu (the log's,
// which guards the index). It sorts the entries written since the last
// lookup.
func (o *openSegment) lookup(id string, mu *sync.Mutex) ([]int64, int64) {
	mu.Lock()
	defer mu.Unlock()
	if o.sorted < len(o.entries) {
		slices.Sort(o.entries)
		o.sorted = len(o.entries)
	}
	want := idxEntry(hashID(id), 0)
	i, _ := slices.BinarySearch(o.entries, want)
	var offs []int64
	for ; i < len(o.entries) && o.entries[i]>>32 == want>>32; i++ {
		offs = append(offs, int64(uint32(o.entries[i])))
	}
	return offs, o.info.size
}

// scan yields model's predictions, segment by segment in the order they
// were created, each segment's in the order written, skipping segments
// whose predictions were all answered before since.
func (l *segmentLog) scan(model string, since time.Time) iter.Seq2[Prediction, error] {
	return func(yield func(Prediction, error) bool) {
		segs, err := l.segments(model)
		if err != nil {
			yield(Prediction{}, err)
			return
		}
		for i := range segs {
			s := &segs[i]
			if s.state != segForeign && (s.info.count == 0 || (!since.IsZero() && s.info.maxTime < since.UnixNano())) {
				continue
			}
			f, err := l.file(s)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				yield(Prediction{}, err)
				return
			}
			stop := false
			limit := s.info.size
			if s.state == segForeign {
				limit = -1
			}
			_, err = scanSegment(f, limit, func(_ int64, payload []byte) bool {
				p, err := decodeRecord(payload, model)
				if err != nil {
					stop = !yield(p, fmt.Errorf("segment %s/%s: %w", model, s.name, err))
					return false
				}
				if !since.IsZero() && p.Time.Before(since) {
					return true
				}
				stop = !yield(p, nil)
				return !stop
			})
			f.Close()
			if stop {
				return
			}
			if err != nil {
				yield(Prediction{}, err)
				return
			}
		}
	}
}

// prune removes model's sealed segments whose predictions were all
// answered before before, then its oldest sealed segments until the
// model's segments take at most maxBytes (0: no bound by size). It
// returns how many predictions it removed. The segment being written is
// removed only when all of it is past retention; it is sealed at
// DefaultSegmentBytes or DefaultSegmentAge.
func (l *segmentLog) prune(model string, before time.Time, maxBytes int64) (int64, error) {
	l.mu.Lock()
	if o := l.open[model]; o != nil && o.info.count > 0 && o.info.maxTime < before.UnixNano() {
		if err := l.sealLocked(model); err != nil { // all of it is past retention
			l.mu.Unlock()
			return 0, err
		}
	}
	l.mu.Unlock()
	if err := l.sweep(model, time.Now().Add(-orphanAge)); err != nil {
		return 0, err
	}
	segs, err := l.segments(model)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, s := range segs {
		total += max(s.info.size, 0)
	}
	var removed int64
	for _, s := range segs {
		if s.state != segSealed {
			continue
		}
		old := s.info.maxTime < before.UnixNano()
		big := maxBytes > 0 && total > maxBytes
		if !old && !big {
			continue
		}
		if err := l.remove(model, s.name); err != nil {
			return removed, err
		}
		total -= s.info.size
		removed += s.info.count
	}
	return removed, nil
}

// orphanAge is how old a file a crash may have left behind must be
// before sweep removes it: far longer than a writer takes between
// creating a temporary file and renaming it, or between removing a
// segment's data and its index.
const orphanAge = time.Minute

// sweep removes what a crash left in model's directory before now: a
// temporary file (a segment being created, an index being written) and
// an index whose segment's data is gone (a removal cut in two). Readers
// pass them over; this returns their space.
func (l *segmentLog) sweep(model string, before time.Time) error {
	dir := filepath.Join(l.dir, model)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	names := make(map[string]bool, len(ents))
	for _, e := range ents {
		names[e.Name()] = true
	}
	for _, e := range ents {
		n := e.Name()
		base, isIdx := strings.CutSuffix(n, idxExt)
		if orphan := strings.HasSuffix(n, ".new") || isIdx && !names[base+segExt]; !orphan {
			continue
		}
		if info, err := e.Info(); err != nil || !info.ModTime().Before(before) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s, left by a crash: %w", n, err)
		}
	}
	return nil
}

// remove deletes a sealed segment: its data first, so that no reader
// takes a data file without an index for a crashed segment.
func (l *segmentLog) remove(model, name string) error {
	dir := filepath.Join(l.dir, model)
	if err := os.Remove(filepath.Join(dir, name+segExt)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	idx := filepath.Join(dir, name+idxExt)
	l.mu.Lock()
	delete(l.infos, idx)
	l.mu.Unlock()
	if err := os.Remove(idx); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
