package retrain

import (
	"fmt"
	"sync"
)

// tail keeps the last limit bytes written to it: a command's output, of
// any length, in bounded memory. Safe for concurrent use.
type tail struct {
	mu      sync.Mutex
	limit   int
	buf     []byte
	written int64
}

func newTail(limit int) *tail { return &tail{limit: limit, buf: make([]byte, 0, min(limit, 4096))} }

// Write keeps the last limit bytes of what was written; it never fails.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.written += int64(len(p))
	if len(p) >= t.limit {
		t.buf = append(t.buf[:0], p[len(p)-t.limit:]...)
		return len(p), nil
	}
	if over := len(t.buf) + len(p) - t.limit; over > 0 {
		t.buf = t.buf[:copy(t.buf, t.buf[over:])]
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

// Truncated reports whether more was written than is kept.
func (t *tail) Truncated() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.written > int64(len(t.buf))
}

// String returns what is kept, after a line saying how much came before
// it when the output was cut.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.written > int64(len(t.buf)) {
		return fmt.Sprintf("[truncated: the last %d of %d bytes]\n%s", len(t.buf), t.written, t.buf)
	}
	return string(t.buf)
}
