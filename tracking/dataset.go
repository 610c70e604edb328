package tracking

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// DescribeCSV reads a CSV file with a header row from r to its end and
// returns its data version: the sha256 of its bytes, its data rows (the
// header not counted) and its columns (the header's names). Path is left
// for the caller to fill in.
//
// It fails with ErrInvalid when r is not such a file: empty, not UTF-8
// text, a header with an empty or repeated name, a row whose number of
// fields differs from the header's, a malformed quote, or no data rows.
// A leading byte order mark is not part of the first column's name.
func DescribeCSV(r io.Reader) (Dataset, error) {
	h := sha256.New()
	cr := csv.NewReader(io.TeeReader(r, h))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return Dataset{}, fmt.Errorf("%w: not CSV: the file is empty, without even a header row", ErrInvalid)
	}
	if err != nil {
		return Dataset{}, notCSV(err)
	}
	cols := make([]string, len(header))
	seen := make(map[string]bool, len(header))
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		if err := checkCell(name, 1, i+1); err != nil {
			return Dataset{}, err
		}
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			return Dataset{}, fmt.Errorf("%w: not CSV with a header row: column %d of the header has no name", ErrInvalid, i+1)
		case seen[name]:
			return Dataset{}, fmt.Errorf("%w: not CSV with a header row: column %q appears twice in the header", ErrInvalid, name)
		}
		seen[name] = true
		cols[i] = name
	}
	var rows int64
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Dataset{}, notCSV(err)
		}
		rows++
		line, _ := cr.FieldPos(0)
		for i, cell := range rec {
			if err := checkCell(cell, line, i+1); err != nil {
				return Dataset{}, err
			}
		}
	}
	if rows == 0 {
		return Dataset{}, fmt.Errorf("%w: the CSV file has a header row but no data rows", ErrInvalid)
	}
	return Dataset{SHA256: hex.EncodeToString(h.Sum(nil)), Rows: rows, Columns: cols}, nil
}

// checkCell refuses what a text CSV file cannot hold.
func checkCell(s string, line, col int) error {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%w: not CSV: line %d, column %d is not text", ErrInvalid, line, col)
	}
	return nil
}

func notCSV(err error) error {
	return fmt.Errorf("%w: not CSV with a header row: %v", ErrInvalid, err)
}
