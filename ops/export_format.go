package ops

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/switchyard-ml/switchyard/tracking"
)

// rowWriter writes Export's rows in one format: start before the first,
// row for each, flush after the last.
type rowWriter interface {
	start() error
	row(p *tracking.Prediction, l *exportLayout, cells []cell) error
	flush() error
}

// exportTime writes a time as the export does: RFC 3339 in UTC, to the
// nanosecond; "" for the zero time.
func exportTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// exportScore is a prediction's score: its one score, or null when it
// has none (a model without a score rule) or more than one.
func exportScore(p *tracking.Prediction) cell {
	if len(p.Scores) != 1 {
		return cell{}
	}
	return cell{strconv.FormatFloat(p.Scores[0], 'g', -1, 64), cellNumber}
}

// exportLabel is a prediction's label as given: a JSON string is its
// text, a number its JSON text; null without one.
func exportLabel(p *tracking.Prediction) cell {
	if p.Label == nil {
		return cell{}
	}
	var s string
	if json.Unmarshal(p.Label, &s) == nil {
		return cell{s, cellString}
	}
	return cell{string(p.Label), cellNumber}
}

// csvRows writes RFC 4180 CSV: the header, then a record per row, reused.
type csvRows struct {
	w      *csv.Writer
	header *exportLayout
	rec    []string
}

func newCSVRows(w io.Writer, header *exportLayout) *csvRows {
	return &csvRows{w: csv.NewWriter(bufio.NewWriterSize(w, exportWriteBuffer)), header: header}
}

func (c *csvRows) start() error {
	names := c.header.names()
	c.rec = append(c.rec[:0], exportFixed[:4]...)
	c.rec = append(c.rec, names...)
	c.rec = append(c.rec, exportFixed[4:]...)
	return c.w.Write(c.rec)
}

func (c *csvRows) row(p *tracking.Prediction, _ *exportLayout, cells []cell) error {
	c.rec = append(c.rec[:0], p.ID, exportTime(p.Time), strconv.Itoa(p.Version), p.Arm)
	for _, x := range cells {
		c.rec = append(c.rec, x.text)
	}
	c.rec = append(c.rec, exportScore(p).text, exportLabel(p).text, exportTime(p.LabelTime))
	return c.w.Write(c.rec)
}

func (c *csvRows) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// jsonRows writes one JSON object per line, appended to a reused buffer.
type jsonRows struct {
	w   *bufio.Writer
	buf []byte
}

func newJSONRows(w io.Writer) *jsonRows {
	return &jsonRows{w: bufio.NewWriterSize(w, exportWriteBuffer)}
}

func (j *jsonRows) start() error { return nil }

func (j *jsonRows) row(p *tracking.Prediction, l *exportLayout, cells []cell) error {
	b := append(j.buf[:0], '{')
	b = appendField(b, exportFixed[0], cell{p.ID, cellString})
	b = appendField(b, exportFixed[1], cell{exportTime(p.Time), cellString})
	b = appendField(b, exportFixed[2], cell{strconv.Itoa(p.Version), cellNumber})
	b = appendField(b, exportFixed[3], cell{p.Arm, cellString})
	for i := range cells {
		b = appendField(b, l.columns[i].name, cells[i])
	}
	b = appendField(b, exportFixed[4], exportScore(p))
	if p.Label != nil {
		b = append(appendJSONString(append(b, ','), exportFixed[5]), ':')
		b = append(b, p.Label...) // as the store keeps it: canonical JSON
	} else {
		b = appendField(b, exportFixed[5], cell{})
	}
	labelled := cell{}
	if !p.LabelTime.IsZero() {
		labelled = cell{exportTime(p.LabelTime), cellString}
	}
	b = appendField(b, exportFixed[6], labelled)
	b = append(b, '}', '\n')
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func (j *jsonRows) flush() error { return j.w.Flush() }

// appendField appends "name": value to an object being written, with a
// comma before it unless it is the first.
func appendField(b []byte, name string, c cell) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(appendJSONString(b, name), ':')
	switch c.kind {
	case cellNull:
		return append(b, "null"...)
	case cellString:
		return appendJSONString(b, c.text)
	}
	return append(b, c.text...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	q, err := json.Marshal(s)
	if err != nil { // a string always encodes
		panic("BUG: " + err.Error())
	}
	return append(b, q...)
}
