package stream

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Conn is a replica's connection to the fleet's stream. Offer and
// PublishLabels are safe for concurrent use; Publish and Consume are
// each called once, and Close after they return.
type Conn struct {
	cfg     Config
	nc      *nats.Conn
	js      jetstream.JetStream
	replica string // the Switchyard-Replica header of what this data directory publishes
	// queue holds the batches Offer took, for the publisher; retries the
	// publishes whose ack failed, for another attempt.
	queue   chan batch
	retries chan *nats.Msg
	m       *metrics
	// failing is set from a dropped publish to the next ack, so that an
	// outage is logged once, not once a batch.
	failing atomic.Bool
}

// Open connects to cfg.URL, creates the stream when it is missing and
// returns the connection, with its metrics registered on reg. It fails
// with ErrConfig for a bad configuration, and with the cause when NATS
// cannot be reached or has no JetStream within cfg.ConnectTimeout: a
// replica configured for a stream does not start without one.
func Open(ctx context.Context, cfg Config, reg prometheus.Registerer) (*Conn, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	replica, err := replicaID(cfg.Dir)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	c := &Conn{cfg: cfg, replica: replica, m: m,
		queue: make(chan batch, cfg.Buffer), retries: make(chan *nats.Msg, cfg.Buffer)}
	log := cfg.Logger
	c.nc, err = nats.Connect(cfg.URL,
		nats.Name("switchyard "+replica),
		nats.Timeout(cfg.ConnectTimeout),
		nats.MaxReconnects(-1),
		nats.NoCallbacksAfterClientClose(),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("stream: disconnected from NATS; batches are dropped and counted once the publish queue fills", "error", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("stream: reconnected to NATS", "url", nc.ConnectedUrlRedacted()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("stream: connect to %s: %w", cfg.URL, err)
	}
	c.js, err = jetstream.New(c.nc,
		jetstream.WithPublishAsyncMaxPending(cfg.MaxPending),
		jetstream.WithPublishAsyncTimeout(cfg.AckTimeout),
		jetstream.WithPublishAsyncErrHandler(c.publishFailed),
		jetstream.WithPublishAsyncAckHandler(c.published))
	if err != nil {
		c.nc.Close()
		return nil, fmt.Errorf("stream: jetstream: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	if err := c.ensureStream(sctx); err != nil {
		c.nc.Close()
		return nil, err
	}
	return c, nil
}

// ensureStream creates the stream when it is missing: file storage,
// both subjects, bounded by cfg's age and bytes, discarding the oldest.
// An existing stream is left as it is configured.
func (c *Conn) ensureStream(ctx context.Context) error {
	_, err := c.js.Stream(ctx, c.cfg.Name)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("stream: look up stream %s at %s: %w", c.cfg.Name, c.cfg.URL, err)
	}
	_, err = c.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:        c.cfg.Name,
		Description: "switchyard: the fleet's prediction log and feedback",
		Subjects:    []string{PredictionsSubject + "*", FeedbackSubject + "*"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      c.cfg.MaxAge,
		MaxBytes:    c.cfg.MaxBytes,
	})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another replica made it meanwhile
		return fmt.Errorf("stream: create stream %s at %s: %w", c.cfg.Name, c.cfg.URL, err)
	}
	return nil
}

// Replica returns the identity of this data directory in the stream.
func (c *Conn) Replica() string { return c.replica }

// Close closes the connection. Call it after Publish and Consume return.
func (c *Conn) Close() { c.nc.Close() }

// metrics are the stream's counters.
type metrics struct {
	published *prometheus.CounterVec // by kind: predictions, labels
	dropped   prometheus.Counter     // predictions not published
	applied   *prometheus.CounterVec // by kind, from other replicas
	refused   prometheus.Counter     // messages that did not check
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchyard_stream_published_total",
			Help: "Predictions and labels this replica published to the fleet's stream and JetStream acknowledged."}, []string{"kind"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_stream_dropped_total",
			Help: "Logged predictions not published to the fleet's stream (the queue was full or JetStream unreachable); they stay in this replica's log."}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchyard_stream_applied_total",
			Help: "Predictions and labels of other replicas applied to this replica's log."}, []string{"kind"}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_stream_refused_total",
			Help: "Messages of the fleet's stream that did not check and were skipped."}),
	}
	for _, col := range []prometheus.Collector{m.published, m.dropped, m.applied, m.refused} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("stream: metrics: %w", err)
		}
	}
	return m, nil
}
