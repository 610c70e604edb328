package stream

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The files of Config.Dir.
const (
	// replicaFile holds the data directory's identity: random, made once.
	replicaFile = "replica"
	// appliedFile holds the last stream sequence the consumer applied:
	// a little-endian uint64 and its CRC-32C.
	appliedFile = "applied"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// replicaID returns the identity kept in dir, made on first use, so
// that a restarted replica still knows what it published before.
func replicaID(dir string) (string, error) {
	path := filepath.Join(dir, replicaFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if len(id) != 32 {
			return "", fmt.Errorf("stream: %s: not a replica id; remove it to make another", path)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("stream: replica id: %w", err)
	}
	var raw [16]byte
	rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("stream: replica id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("stream: replica id: %w", err)
	}
	return id, nil
}

// position is the last stream sequence this data directory applied. Its
// one writer is the consumer's goroutine.
type position struct {
	f   *os.File
	seq uint64
}

// openPosition opens dir's position, 0 when none was recorded. A record
// that does not check (cut by a crash) counts as 0: the consumer then
// applies the stream again, skipping the batches it finds logged.
func openPosition(dir string) (*position, bool, error) {
	f, err := os.OpenFile(filepath.Join(dir, appliedFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("stream: position: %w", err)
	}
	p := &position{f: f}
	var b [12]byte
	n, _ := f.ReadAt(b[:], 0)
	switch {
	case n == 0:
		return p, true, nil
	case n == len(b) && crc32.Checksum(b[:8], castagnoli) == binary.LittleEndian.Uint32(b[8:]):
		p.seq = binary.LittleEndian.Uint64(b[:8])
		return p, true, nil
	}
	return p, false, nil
}

// set records seq as applied. It is written to the operating system, as
// the prediction log's records are, not synced: a crash of the machine
// may replay the last batches, which the first-id check skips.
func (p *position) set(seq uint64) error {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:], seq)
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b[:8], castagnoli))
	if _, err := p.f.WriteAt(b[:], 0); err != nil {
		return fmt.Errorf("stream: record position %d: %w", seq, err)
	}
	p.seq = seq
	return nil
}

func (p *position) close() error { return p.f.Close() }
