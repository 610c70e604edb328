package stream

import (
	"bytes"
	"context"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The headers of the stream's messages besides Nats-Msg-Id.
const (
	// ReplicaHeader names the data directory that published a message.
	ReplicaHeader = "Switchyard-Replica"
	// attemptHeader counts a batch's publishes, for the retries.
	attemptHeader = "Switchyard-Attempt"
)

// batch is a copy of a batch of a model's records, waiting to be
// published.
type batch struct {
	model   string
	records []byte
}

// Offer takes a copy of records, a batch of model's records that the
// prediction log's writer has just appended (tracking's
// LogConfig.OnBatch), for the publisher; when its queue is full the
// batch is dropped and its predictions counted. It never blocks and
// keeps nothing of records. Safe for concurrent use.
func (c *Conn) Offer(model string, records []byte) {
	select {
	case c.queue <- batch{model: model, records: bytes.Clone(records)}:
	default:
		c.drop(records)
	}
}

// Publish publishes the offered batches until ctx is done, each
// asynchronously with at most Config.MaxPending awaiting their acks; a
// publish whose ack fails or times out is made again, under the same
// Nats-Msg-Id so that JetStream stores it once, up to Config.Attempts
// times, then dropped and counted. Once ctx is done it publishes what
// is queued (the log writer's last batches, when the writer stopped
// first) and waits up to Config.AckTimeout for the acks, then returns.
func (c *Conn) Publish(ctx context.Context) {
	for {
		select {
		case b := <-c.queue:
			c.publish(c.batchMsg(b))
		case m := <-c.retries:
			c.publish(m)
		case <-ctx.Done():
			for len(c.queue) > 0 { // this goroutine is the queue's one reader
				c.publish(c.batchMsg(<-c.queue))
			}
			select {
			case <-c.js.PublishAsyncComplete():
			case <-time.After(c.cfg.AckTimeout):
			}
			return
		}
	}
}

// batchMsg is b's message. Its id is the model and its first
// prediction's id, which no other batch has.
func (c *Conn) batchMsg(b batch) *nats.Msg {
	m := nats.NewMsg(PredictionsSubject + b.model)
	m.Data = b.records
	m.Header.Set(jetstream.MsgIDHeader, "p-"+b.model+"-"+string(firstID(b.records)))
	m.Header.Set(ReplicaHeader, c.replica)
	return m
}

// publish makes one more attempt at m.
func (c *Conn) publish(m *nats.Msg) {
	attempt, _ := strconv.Atoi(m.Header.Get(attemptHeader))
	m.Header.Set(attemptHeader, strconv.Itoa(attempt+1))
	if _, err := c.js.PublishMsgAsync(m); err != nil { // closed, stalled or buffer full: no retry now
		c.drop(m.Data)
		c.dropping(err)
	}
}

// published is the async ack handler; it runs on the client's goroutine.
func (c *Conn) published(_ jetstream.JetStream, m *nats.Msg, _ *jetstream.PubAck) {
	c.m.published.WithLabelValues("predictions").Add(float64(countRecords(m.Data)))
	if c.failing.Swap(false) {
		c.cfg.Logger.Info("stream: publishing again")
	}
}

// publishFailed is the async error handler, which runs on the client's
// goroutine with its lock held: it hands m back for another attempt
// without waiting, or drops it.
func (c *Conn) publishFailed(_ jetstream.JetStream, m *nats.Msg, err error) {
	if attempt, _ := strconv.Atoi(m.Header.Get(attemptHeader)); attempt < c.cfg.Attempts {
		select {
		case c.retries <- m:
			return
		default:
		}
	}
	c.drop(m.Data)
	c.dropping(err)
}

// drop counts the predictions of records as not published.
func (c *Conn) drop(records []byte) { c.m.dropped.Add(float64(countRecords(records))) }

// dropping logs the first drop after a success.
func (c *Conn) dropping(err error) {
	if !c.failing.Swap(true) {
		c.cfg.Logger.Warn("stream: batches are not published to the fleet and are dropped (switchyard_stream_dropped_total); this replica's log keeps them", "error", err)
	}
}

// countRecords counts the records of a batch by their headers.
func countRecords(records []byte) int {
	n := 0
	for off := 0; off+8 <= len(records); n++ {
		off += 8 + int(binary.LittleEndian.Uint32(records[off:]))
	}
	return n
}

// firstID returns the id of a batch's first record, nil when it has
// none that parses.
func firstID(records []byte) []byte {
	if len(records) < 8 {
		return nil
	}
	n, k := binary.Uvarint(records[8:])
	if k <= 0 || uint64(len(records)-8-k) < n {
		return nil
	}
	return records[8+k : 8+k+int(n)]
}
