package stream

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/tracking"
)

// Defaults of Config.
const (
	DefaultName           = "SWITCHYARD"
	DefaultBuffer         = 256
	DefaultMaxPending     = 256
	DefaultAttempts       = 3
	DefaultConnectTimeout = 5 * time.Second
	DefaultAckTimeout     = 5 * time.Second
)

// The subjects of the stream: a model's name follows the prefix.
const (
	PredictionsSubject = "switchyard.predictions."
	FeedbackSubject    = "switchyard.feedback."
)

// Log is the replica's prediction log and labels, to which the consumer
// applies the other replicas' messages; *tracking.Store implements it.
type Log interface {
	// AppendBatch appends a batch of a model's records, checked whole,
	// skipping it when dedup is set and its first record is logged.
	AppendBatch(model string, records []byte, dedup bool) (int, error)
	// JoinLabels joins labels accepted elsewhere, first label winning.
	JoinLabels(ctx context.Context, labelled []tracking.Prediction) ([]tracking.FeedbackResult, error)
}

// Config configures Open. The zero value of each field but URL, Dir and
// Log takes its default.
type Config struct {
	// URL is the NATS server: nats://host:port, or several separated by
	// commas (a cluster). Required.
	URL string
	// Dir keeps this data directory's identity (the Switchyard-Replica
	// header of what it publishes) and the last stream sequence it
	// applied. Required; made when missing.
	Dir string
	// Log receives the other replicas' batches and labels. Required.
	Log Log
	// OnPredictions, when set, receives the predictions of each batch
	// another replica logged, once appended here, with their ids, inputs
	// and scores: the feed of the live quality and drift monitors. It
	// must not block and must not keep ps.
	OnPredictions func(ps []tracking.Prediction)
	// OnLabels, when set, receives the predictions whose label another
	// replica's feedback joined and this replica accepted (not a
	// duplicate nor a conflict): the live quality monitor's feed. It must
	// not block and must not keep ps.
	OnLabels func(ps []tracking.Prediction)
	// Name is the JetStream stream's name. "" means DefaultName.
	Name string
	// MaxAge and MaxBytes bound the stream, which Open creates with them
	// when it is missing. 0 means the prediction log's default retention
	// of a model (tracking.DefaultLogRetention, DefaultLogMaxBytes).
	MaxAge   time.Duration
	MaxBytes int64
	// Buffer bounds the batches waiting to be published; past it Offer
	// drops and counts. 0 means DefaultBuffer.
	Buffer int
	// MaxPending bounds the publishes awaiting JetStream's ack. 0 means
	// DefaultMaxPending.
	MaxPending int
	// Attempts is how many times a batch is published before it is
	// dropped and counted. 0 means DefaultAttempts.
	Attempts int
	// ConnectTimeout bounds Open's connection and stream lookup. 0 means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// AckTimeout bounds the wait for a publish's ack: an async batch's,
	// and PublishLabels'. 0 means DefaultAckTimeout.
	AckTimeout time.Duration
	// Logger receives the stream's events. Nil means slog.Default().
	Logger *slog.Logger
}

// withDefaults checks c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if err := CheckURL(c.URL); err != nil {
		return c, err
	}
	if c.Dir == "" || c.Log == nil {
		return c, fmt.Errorf("%w: a directory and a log are required", ErrConfig)
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.MaxAge <= 0 {
		c.MaxAge = tracking.DefaultLogRetention
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = tracking.DefaultLogMaxBytes
	}
	if c.Buffer <= 0 {
		c.Buffer = DefaultBuffer
	}
	if c.MaxPending <= 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.Attempts <= 0 {
		c.Attempts = DefaultAttempts
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// CheckURL checks a --stream URL: nats://host:port, or several of them
// separated by commas. It fails with ErrConfig saying what is wrong.
func CheckURL(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%w: no NATS URL; want nats://host:port", ErrConfig)
	}
	for part := range strings.SplitSeq(s, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil {
			return fmt.Errorf("%w: NATS URL %q: %w", ErrConfig, part, err)
		}
		if u.Scheme != "nats" && u.Scheme != "tls" {
			return fmt.Errorf("%w: NATS URL %q: the scheme is %q; want nats://host:port (or tls://)", ErrConfig, part, u.Scheme)
		}
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil || host == "" {
			return fmt.Errorf("%w: NATS URL %q: want nats://host:port", ErrConfig, part)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: NATS URL %q: port %q is not a port number", ErrConfig, part, port)
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
			return fmt.Errorf("%w: NATS URL %q: want nats://host:port, without a path or query", ErrConfig, part)
		}
	}
	return nil
}
