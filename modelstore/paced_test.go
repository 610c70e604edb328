package modelstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"time"
)

// TestPacedReader: the paced reader passes every byte through in order,
// and stops waiting when its context ends.
func TestPacedReader(t *testing.T) {
	data := bytes.Repeat([]byte("0.5,1,2\n"), 10_000)
	got, err := io.ReadAll(iotest.OneByteReader(&pacedReader{r: bytes.NewReader(data), ctx: context.Background()}))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes (%v); want the %d given, unchanged", len(got), err, len(data))
	}

	ctx, cancel := context.WithCancel(context.Background())
	p := &pacedReader{r: bytes.NewReader(data), ctx: ctx}
	if _, err := p.Read(make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	cancel()
	p.last = p.last.Add(-time.Minute) // as if the parser had worked a minute: the next read would wait as long
	if _, err := p.Read(make([]byte, 8)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read after the context ended = %v; want context.Canceled at once", err)
	}
}
