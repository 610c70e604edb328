package lead

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	DefaultGroup = "switchyard"
	DefaultRetry = time.Second
	DefaultPing  = 500 * time.Millisecond
)

// Config configures a Leader. Only DSN is required.
type Config struct {
	// DSN names the PostgreSQL database the replicas share
	// (postgres://...). Required.
	DSN string
	// Group names the replicas that elect one leader: it keys the
	// advisory lock and the term. Empty means DefaultGroup.
	Group string
	// Retry is how often a follower tries to take the lock, and how long
	// a replica whose connection failed waits before it connects again.
	// 0 means DefaultRetry.
	Retry time.Duration
	// Ping is how often the leader checks its connection, and how long
	// it waits for the answer: the longest it may act on a role it has
	// lost (a claim it makes meanwhile is still fenced). 0 means
	// DefaultPing.
	Ping time.Duration
	// OnChange, when set, is called each time the role changes, with the
	// term taken, or 0 when the role is lost: by Run, or by the Claim
	// that finds itself fenced. It must not block.
	OnChange func(term int64)
	// Logger receives takeovers, losses and connection failures. Nil
	// means slog.Default().
	Logger *slog.Logger
}

// Leader is one replica's candidacy for its group's leadership. Run
// campaigns and holds the role; IsLeader, Term and Claim read it. Its
// methods are safe for concurrent use.
type Leader struct {
	cfg   Config
	conn  *pgx.ConnConfig // the lock's session, with server-side keepalives
	pool  *pgxpool.Pool   // claims
	key   int64           // the advisory lock's key
	log   *slog.Logger
	m     *metrics
	term  atomic.Int64  // the term held; 0 while following. Set by Run, cleared by Run or a fenced Claim
	lost  chan struct{} // a fenced Claim tells Run to drop the session
	ready atomic.Bool   // the tables exist
}

// New validates cfg and returns a Leader, following until Run takes the
// role, with its metrics registered with reg. It does not connect yet.
func New(cfg Config, reg prometheus.Registerer) (*Leader, error) {
	if cfg.DSN == "" {
		return nil, errors.New("lead: no DSN")
	}
	if cfg.Group == "" {
		cfg.Group = DefaultGroup
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Ping <= 0 {
		cfg.Ping = DefaultPing
	}
	conn, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("lead: PostgreSQL DSN: %w", err)
	}
	// The server drops a session whose peer vanished (its locks with it)
	// after about 10s without an answer, not the system's two hours.
	for k, v := range map[string]string{"tcp_keepalives_idle": "4", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3",
		"application_name": "switchyard-lead"} {
		if _, set := conn.RuntimeParams[k]; !set {
			conn.RuntimeParams[k] = v
		}
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(context.Background(), cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("lead: PostgreSQL DSN: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	h := fnv.New64a()
	h.Write([]byte("switchyard/lead/" + cfg.Group))
	return &Leader{cfg: cfg, conn: conn, pool: pool, key: int64(h.Sum64()), log: log.With("group", cfg.Group), m: m,
		lost: make(chan struct{}, 1)}, nil
}

// Close closes the connections Claim uses. Call it once Run has
// returned.
func (l *Leader) Close() { l.pool.Close() }

// IsLeader reports whether this replica holds the role. It turns false
// as soon as the Leader learns that the role is lost.
func (l *Leader) IsLeader() bool { return l.term.Load() != 0 }

// Term returns the fencing term this replica took the role with, or 0
// while it follows.
func (l *Leader) Term() int64 { return l.term.Load() }

// Run campaigns for the role until ctx ends: it connects, tries the lock
// every Retry, and once it holds it, pings every Ping until the
// connection fails or ctx ends. Losing the connection loses the role at
// once, and Run campaigns again. On return the role is released.
func (l *Leader) Run(ctx context.Context) {
	wait := time.NewTimer(0)
	defer wait.Stop()
	var failing string // the last connection error logged
	for {
		select {
		case <-ctx.Done():
			return
		case <-wait.C:
		}
		if err := l.campaign(ctx); err != nil && ctx.Err() == nil {
			if e := err.Error(); e != failing {
				failing = e
				l.log.Warn("lead: no connection to campaign on; retrying", "error", err)
			}
		} else {
			failing = ""
		}
		wait.Reset(l.cfg.Retry)
	}
}

// campaign connects, takes the lock when it is free and holds it while
// the connection lasts. It returns when the connection fails or ctx
// ends, having given up the role.
func (l *Leader) campaign(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, l.conn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background()) // the session ends: the server releases the lock
	if err := l.migrate(ctx, conn); err != nil {
		return err
	}
	tick := time.NewTicker(l.cfg.Retry)
	defer tick.Stop()
	for {
		term, err := l.take(ctx, conn)
		if err != nil {
			return err
		}
		if term != 0 {
			l.hold(ctx, conn, term)
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// take tries the lock and, when it gets it, moves the group to the next
// term in the same transaction. It returns the term, or 0 when another
// session holds the lock.
func (l *Leader) take(ctx context.Context, conn *pgx.Conn) (int64, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background())
	var won bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, l.key).Scan(&won); err != nil || !won {
		return 0, err
	}
	// A session lock outlives a rolled-back transaction: on any failure
	// from here, the caller closes the connection, which releases it.
	var term int64
	err = tx.QueryRow(ctx, `INSERT INTO lead_terms (grp, term) VALUES ($1, 1)
		ON CONFLICT (grp) DO UPDATE SET term = lead_terms.term + 1 RETURNING term`, l.cfg.Group).Scan(&term)
	if err != nil {
		return 0, fmt.Errorf("lead: next term: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("lead: next term: %w", err)
	}
	return term, nil
}

// hold keeps the role of term while conn answers its pings and no claim
// is fenced. It gives the role up before it returns.
func (l *Leader) hold(ctx context.Context, conn *pgx.Conn, term int64) {
	select {
	case <-l.lost: // a stale claim of an earlier term
	default:
	}
	l.set(term)
	l.log.Info("lead: this replica leads", "term", term)
	defer l.set(0)
	tick := time.NewTicker(l.cfg.Ping)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			l.log.Info("lead: stepping down", "term", term)
			return
		case <-l.lost: // Claim has logged it
			return
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, l.cfg.Ping)
		err := conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			l.set(0)
			l.log.Warn("lead: the connection failed; the role is lost", "term", term, "error", err)
			return
		}
	}
}

// set records the term held (0: none) and reports a change.
func (l *Leader) set(term int64) {
	if l.term.Swap(term) != term {
		l.changed(term)
	}
}

// changed reports a change of role.
func (l *Leader) changed(term int64) {
	l.m.set(term)
	if l.cfg.OnChange != nil {
		l.cfg.OnChange(term)
	}
}

// Claim records that the leader acts on a decision (model, action,
// reason) in lead_decisions, fenced by its term: the write holds the
// group's term row shared and is refused, with ErrFenced, when another
// replica has taken a later term. A refused claim makes this replica a
// follower at once. A caller acts only on a nil error; ErrNotLeader
// means it follows.
func (l *Leader) Claim(ctx context.Context, model, action, reason string) error {
	term := l.term.Load()
	if term == 0 {
		return ErrNotLeader
	}
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		var cur int64
		if err := tx.QueryRow(ctx, `SELECT term FROM lead_terms WHERE grp = $1 FOR SHARE`, l.cfg.Group).Scan(&cur); err != nil {
			return err
		}
		if cur != term {
			return fmt.Errorf("%w: this replica took term %d; the group is at term %d", ErrFenced, term, cur)
		}
		_, err := tx.Exec(ctx, `INSERT INTO lead_decisions (grp, term, model, action, reason) VALUES ($1, $2, $3, $4, $5)`,
			l.cfg.Group, term, model, action, reason)
		return err
	})
	if errors.Is(err, ErrFenced) {
		if l.term.CompareAndSwap(term, 0) {
			l.log.Warn("lead: a later term fenced this replica's claim; the role is lost", "term", term, "model", model, "action", action)
			l.changed(0)
		}
		select {
		case l.lost <- struct{}{}:
		default:
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("lead: claim %s of %s: %w", action, model, err)
	}
	return nil
}
