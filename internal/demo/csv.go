package demo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// LabelColumn is the name of the label column WriteCSV writes last.
const LabelColumn = "label"

// WriteCSV writes d to w as CSV: a header of FeatureNames followed by
// LabelColumn, then one line per row. Each value is written in the shortest
// decimal form that parses back to the same float64; labels are 0 or 1. It
// buffers its writes and returns the first error w reports.
func WriteCSV(w io.Writer, d *Dataset) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := make([]byte, 0, 256)
	for _, name := range FeatureNames() {
		buf = append(buf, name...)
		buf = append(buf, ',')
	}
	buf = append(buf, LabelColumn+"\n"...)
	if _, err := bw.Write(buf); err != nil {
		return fmt.Errorf("demo: write csv: %w", err)
	}
	for i := range d.Len() {
		buf = buf[:0]
		for _, v := range d.Row(i) {
			buf = strconv.AppendFloat(buf, v, 'f', -1, 64)
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
