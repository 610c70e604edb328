package demo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// LabelColumn is the name of the label column WriteCSV writes last.
const LabelColumn = "label"

// WriteCSV writes d to w as CSV, each row as a client of the records API
// would send it: a header of the Features' names followed by LabelColumn,
// then one line per row. A number is written in the shortest decimal form
// that parses back to the same float64, an integer as one, a bool as true
// or false and a category as its value; labels are 0 (legit) or 1
// (fraud). It buffers its writes and returns the first error w reports.
func WriteCSV(w io.Writer, d *Dataset) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := make([]byte, 0, 256)
	for _, f := range Features() {
		buf = append(buf, f.Name...)
		buf = append(buf, ',')
	}
	buf = append(buf, LabelColumn+"\n"...)
	if _, err := bw.Write(buf); err != nil {
		return fmt.Errorf("demo: write csv: %w", err)
	}
	for i := range d.Len() {
		buf = buf[:0]
		for j, v := range d.Row(i) {
			buf = appendValue(buf, j, v, false)
			buf = append(buf, ',')
		}
		buf = strconv.AppendInt(buf, int64(d.Y[i]), 10)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("demo: write csv: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("demo: write csv: %w", err)
	}
	return nil
}

// AppendJSON appends record, which holds NumFeatures values, to dst as
// the JSON object a client of the records API sends, its fields in the
// order of Features, and returns the extended buffer.
func AppendJSON(dst []byte, record []float64) []byte {
	dst = append(dst, '{')
	for j, f := range Features() {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, f.Name...)
		dst = append(dst, `":`...)
		dst = appendValue(dst, j, record[j], true)
	}
	return append(dst, '}')
}

// appendValue appends value v of field j in the form its type takes, a
// category's value quoted if quote is true. The categories' values and
// the fields' names need no escaping.
func appendValue(dst []byte, j int, v float64, quote bool) []byte {
	switch j {
	case CardPresent:
		return strconv.AppendBool(dst, v == 1)
	case MerchantCategory, Country:
		s := MerchantCategories[:]
		if j == Country {
			s = Countries[:]
		}
		if quote {
			return append(append(append(dst, '"'), s[int(v)]...), '"')
		}
		return append(dst, s[int(v)]...)
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}
