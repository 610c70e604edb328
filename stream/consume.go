package stream

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard-ml/switchyard/internal/modelname"
	"github.com/switchyard-ml/switchyard/tracking"
)

// retryEvery is how long the consumer waits before trying again: to
// reach NATS, to read the stream, or to apply a message whose
// application failed for a local reason (a disk error).
const retryEvery = time.Second

// retryLogEvery is how often a failure that keeps recurring is logged
// again.
const retryLogEvery = time.Minute

// retryLog logs the failures of a retry loop: the first at once, then
// at most one each retryLogEvery, with how many there were since, so
// that an outage of NATS does not write a line a second. The zero value
// is ready; a success resets it (ok).
type retryLog struct {
	logged time.Time
	failed int
}

// failure logs a failure at level, as retryLog says.
func (r *retryLog) failure(log *slog.Logger, level slog.Level, msg string, args ...any) {
	r.failed++
	if !r.logged.IsZero() && time.Since(r.logged) < retryLogEvery {
		return
	}
	log.Log(context.Background(), level, msg, append(args, "failures", r.failed)...)
	r.logged, r.failed = time.Now(), 0
}

// ok resets r after a success.
func (r *retryLog) ok() { *r = retryLog{} }

// Consume applies the stream to this replica until ctx is done, then
// returns nil; it fails only when it cannot open its position in
// Config.Dir. While NATS is unreachable it waits for it. It reads the stream
// in order through an ordered consumer (no state on the server: the
// position lives in Config.Dir beside the log it describes, so a fresh
// data directory replays the stream), from the sequence after the last
// applied. For each message another replica published it appends the
// batch to the log, or joins the labels, then feeds OnPredictions or
// OnLabels, then records the sequence as applied; what this data
// directory published it skips, having it already. A message that does
// not check is skipped and counted (switchyard_stream_refused_total); a
// local failure is logged and the message applied again after a second.
func (c *Conn) Consume(ctx context.Context) error {
	pos, ok, err := openPosition(c.cfg.Dir)
	if err != nil {
		return err
	}
	defer pos.close()
	if !ok {
		c.cfg.Logger.Warn("stream: the recorded position does not check; applying the stream from its start, skipping batches already logged")
	}
	// The consumer's name is this replica's and this run's: a process
	// killed while it consumed leaves its consumer on the server for
	// JetStream's inactivity threshold (five minutes), and the same name
	// with another start sequence would be refused until then.
	occ := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy,
		NamePrefix: "switchyard_" + c.replica[:8] + "_" + rand.Text()[:8]}
	if pos.seq > 0 {
		occ.DeliverPolicy, occ.OptStartSeq = jetstream.DeliverByStartSequencePolicy, pos.seq+1
	}
	var it jetstream.MessagesContext
	var retries retryLog
	for { // NATS may be down now: try until it is back or ctx is done
		cons, err := c.js.OrderedConsumer(ctx, c.cfg.Name, occ)
		if err == nil {
			if it, err = cons.Messages(); err == nil {
				break
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		retries.failure(c.cfg.Logger, slog.LevelWarn, "stream: cannot consume the stream yet; trying again", "stream", c.cfg.Name, "error", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retryEvery):
		}
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	// checking: the batches from here may have been appended before the
	// position was recorded (a crash between the two); each is looked up
	// by its first id until one is not found, after which none can be.
	checking := true
	retries.ok()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			retries.failure(c.cfg.Logger, slog.LevelWarn, "stream: reading the stream; trying again", "error", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(retryEvery):
			}
			continue
		}
		retries.ok()
		meta, err := msg.Metadata()
		if err != nil {
			c.refuse(msg.Subject(), err)
			continue
		}
		seq := meta.Sequence.Stream
		if seq <= pos.seq {
			continue
		}
		if msg.Headers().Get(ReplicaHeader) != c.replica {
			for {
				appended, err := c.apply(ctx, msg.Subject(), msg.Data(), checking)
				if err == nil {
					checking = checking && !appended
					retries.ok()
					break
				}
				if errors.Is(err, errRefused) {
					c.refuse(msg.Subject(), err)
					break
				}
				retries.failure(c.cfg.Logger, slog.LevelError, "stream: applying a message failed; trying again", "subject", msg.Subject(), "sequence", seq, "error", err)
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(retryEvery):
				}
			}
		}
		if err := pos.set(seq); err != nil {
			c.cfg.Logger.Error("stream: the position could not be recorded; a restart applies these messages again, skipping what is logged", "error", err)
		}
	}
}

// errRefused marks a message that does not check: applying it again
// cannot help.
var errRefused = errors.New("refused")

// apply applies a message of subject, and reports whether it appended a
// batch of predictions; with dedup it skips a batch already logged.
func (c *Conn) apply(ctx context.Context, subject string, data []byte, dedup bool) (bool, error) {
	if model, ok := strings.CutPrefix(subject, PredictionsSubject); ok && modelname.Valid(model) {
		n, err := c.cfg.Log.AppendBatch(model, data, dedup)
		if errors.Is(err, tracking.ErrInvalid) {
			return false, fmt.Errorf("%w: %w", errRefused, err)
		}
		if err != nil || n == 0 {
			return false, err
		}
		c.m.applied.WithLabelValues("predictions").Add(float64(n))
		if c.cfg.OnPredictions != nil {
			ps, err := tracking.DecodeBatch(nil, model, data)
			if err != nil {
				return true, fmt.Errorf("%w: %w", errRefused, err)
			}
			c.cfg.OnPredictions(ps)
		}
		return true, nil
	}
	if model, ok := strings.CutPrefix(subject, FeedbackSubject); ok && modelname.Valid(model) {
		ps, err := decodeLabels(model, data)
		if err != nil {
			return false, fmt.Errorf("%w: %w", errRefused, err)
		}
		res, err := c.cfg.Log.JoinLabels(ctx, ps)
		if errors.Is(err, tracking.ErrInvalid) {
			return false, fmt.Errorf("%w: %w", errRefused, err)
		}
		if err != nil {
			return false, err
		}
		accepted := ps[:0]
		for _, r := range res {
			if r.Status == tracking.FeedbackAccepted {
				accepted = append(accepted, r.Prediction)
			}
		}
		c.m.applied.WithLabelValues("labels").Add(float64(len(accepted)))
		if len(accepted) > 0 && c.cfg.OnLabels != nil {
			c.cfg.OnLabels(accepted)
		}
		return false, nil
	}
	return false, fmt.Errorf("%w: not a subject of switchyard's stream", errRefused)
}

// refuse counts and logs a message that does not check.
func (c *Conn) refuse(subject string, err error) {
	c.m.refused.Inc()
	c.cfg.Logger.Warn("stream: a message that does not check was skipped", "subject", subject, "error", err)
}
