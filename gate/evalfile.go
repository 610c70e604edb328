package gate

import (
	"io"

	"github.com/switchyard-ml/switchyard/internal/regfile"
)

// DefaultMaxBytes is the size limit of an evaluation set when
// EvalConfig.MaxBytes is 0: 1 GiB. At the default row limit
// (DefaultMaxRows, a million rows) it leaves about 1 KiB a row, a hundred
// features written at full float precision; a larger set judges a model
// no better (the metrics settle long before), takes minutes to parse at
// the gate's pace, and must be sampled first. It bounds what a set can
// cost before its rows are counted: the CSV reader holds a whole line in
// memory, so an endless line (a file of zeros) holds at most this much.
const DefaultMaxBytes = 1 << 30

// OpenEvalSet opens the evaluation set at path for ReadEvalSet. It
// refuses, before reading, a path that is not a regular file (a FIFO, a
// device such as /dev/zero, a directory) and a file larger than maxBytes
// (0 means DefaultMaxBytes), and its reads fail once more than maxBytes
// arrive. Errors name the file and the limit and match the sentinels of
// internal/regfile, or wrap the filesystem's error (fs.ErrNotExist for a
// missing file). The caller must Close the reader.
func OpenEvalSet(path string, maxBytes int64) (io.ReadCloser, error) {
	if maxBytes == 0 {
		maxBytes = DefaultMaxBytes
	}
	return regfile.Open(path, regfile.Limit{Max: maxBytes,
		Remedy: "sample the evaluation set: the gate reads at most that much (and gate.max_rows rows)"})
}
