package respcache

import (
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"

	"github.com/switchyard-ml/switchyard/engine"
)

// Config configures one model's cache. Every field is required but
// Metrics.
type Config struct {
	// Model names the model, for the metrics' label.
	Model string
	// MaxBytes bounds what the entries take: their inputs, outputs and
	// bookkeeping. It must be positive.
	MaxBytes int64
	// TTL is how long an entry may answer after it was stored. It must
	// be positive.
	TTL time.Duration
	// Metrics receives the cache's series. Nil records them nowhere.
	Metrics *Metrics
}

// Sizing of the ristretto cache behind a Cache.
const (
	// bytesPerCounter sets the admission policy's counters: one per this
	// many bytes of MaxBytes, about ten per entry for entries of a few
	// hundred bytes (ristretto's advice is ten per entry). Each takes
	// about 2 bytes, so they add about 1.5% to MaxBytes.
	bytesPerCounter = 128
	// minCounters and maxCounters bound their number.
	minCounters = 1 << 10
	maxCounters = 1 << 24
	// bufferItems is ristretto's advised size of its read buffers.
	bufferItems = 64
	// bytesPerSeen sets the doorkeeper's slots: one per this many bytes
	// of MaxBytes, a power of two between minSeen and maxSeen. Each takes
	// 8 bytes: a little under 1% of MaxBytes.
	bytesPerSeen = 1024
	minSeen      = 1 << 10
	maxSeen      = 1 << 18
)

// Cache is one model's response cache. Lookup and Put are safe for
// concurrent use; Resize and Close are called by the cache's owner only.
type Cache struct {
	rc   *ristretto.Cache[uint64, *entry]
	seed maphash.Seed
	ttl  atomic.Int64 // time.Duration, for entries stored from now on
	m    *modelMetrics
	// seen is the doorkeeper: the hash of the latest question that missed
	// in each slot (hash & (len-1)). An answer is stored only when its
	// question missed before, so that questions asked once (all of them,
	// for traffic without repeats) cost a lookup and nothing more. Lossy
	// by design: a slot keeps one hash.
	seen []atomic.Uint64

	// users counts the Lookups and Puts in progress; once closing is set
	// none starts, and the last to end closes idle, which Close waits
	// for before it ends the ristretto cache.
	users     atomic.Int64
	closing   atomic.Bool
	idle      chan struct{}
	idleOnce  sync.Once
	closeOnce sync.Once
}

// New returns an empty cache for cfg.Model, bounded by cfg.MaxBytes, whose
// entries answer for cfg.TTL. Its goroutines run until Close.
func New(cfg Config) (*Cache, error) {
	if cfg.MaxBytes <= 0 || cfg.TTL <= 0 {
		return nil, fmt.Errorf("%w: model %q: max bytes %d and ttl %v must be positive", ErrConfig, cfg.Model, cfg.MaxBytes, cfg.TTL)
	}
	c := &Cache{seed: maphash.MakeSeed(), idle: make(chan struct{}),
		seen: make([]atomic.Uint64, seenSlots(cfg.MaxBytes))}
	c.ttl.Store(int64(cfg.TTL))
	c.m = cfg.Metrics.forModel(cfg.Model)
	rc, err := ristretto.NewCache(&ristretto.Config[uint64, *entry]{
		NumCounters: min(max(cfg.MaxBytes/bytesPerCounter, minCounters), maxCounters),
		MaxCost:     cfg.MaxBytes,
		BufferItems: bufferItems,
		// The hash is the key: Lookup compares the entry in full.
		KeyToHash: func(h uint64) (uint64, uint64) { return h, 0 },
		OnEvict:   c.evicted,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: model %q: %w", ErrConfig, cfg.Model, err)
	}
	c.rc = rc
	cfg.Metrics.add(c)
	return c, nil
}

// Key is where an answer is filed: the load of the version that answers
// and the hash of its inputs. Lookup returns it for the Put that follows
// a miss, saying whether the answer is worth storing.
type Key struct {
	load, hash uint64
	store      bool
}

// seenSlots returns the doorkeeper's size for a cache of maxBytes.
func seenSlots(maxBytes int64) int {
	n := minSeen
	for n < maxSeen && int64(n)*bytesPerSeen < maxBytes {
		n <<= 1
	}
	return n
}

// Lookup looks for the answer that the version load gave to inputs in,
// and on a hit copies its outputs into out, reusing the capacity of each
// tensor's Shape and Data; out must have one tensor per output of the
// version. It returns the key to Put the answer under after a miss:
// the answer is stored only if the same question missed before, not long
// ago. It allocates nothing once out has the room, but for ristretto's
// buffer of the keys read, renewed once every 64 lookups or so.
func (c *Cache) Lookup(load uint64, in, out []engine.Tensor) (Key, bool) {
	k := Key{load: load, hash: hashInputs(c.seed, load, in)}
	if !c.enter() {
		return k, false
	}
	e, ok := c.rc.Get(k.hash)
	c.leave()
	if !ok || !e.answers(load, in) || len(e.out) != len(out) {
		c.m.misses.Inc()
		slot := &c.seen[k.hash&uint64(len(c.seen)-1)]
		if k.store = slot.Load() == k.hash; !k.store {
			slot.Store(k.hash)
		}
		return k, false
	}
	for i := range e.out {
		copyTensor(&out[i], &e.out[i])
	}
	c.m.hits.Inc()
	return k, true
}

// Put stores out, the answer to in, under k from Lookup, if k says it is
// worth storing. It copies in and out, which the caller keeps. An answer
// larger than the cache is not stored; the cache may also decline one
// that it values less than what it would have to evict.
func (c *Cache) Put(k Key, in, out []engine.Tensor) {
	if !k.store {
		return
	}
	e := newEntry(k.load, in, out)
	if e.cost > c.rc.MaxCost() || !c.enter() {
		return
	}
	c.rc.SetWithTTL(k.hash, e, e.cost, time.Duration(c.ttl.Load()))
	c.leave()
}

// Resize bounds the cache by maxBytes and gives entries stored from now
// on ttl, keeping what it holds; when it shrinks, entries are evicted as
// new ones come. For the cache's owner only.
func (c *Cache) Resize(maxBytes int64, ttl time.Duration) {
	c.rc.UpdateMaxCost(maxBytes)
	c.ttl.Store(int64(ttl))
}

// Limits returns the cache's bound in bytes and the TTL of entries stored
// from now on.
func (c *Cache) Limits() (maxBytes int64, ttl time.Duration) {
	return c.rc.MaxCost(), time.Duration(c.ttl.Load())
}

// Close empties the cache and ends its goroutines, once the Lookups and
// Puts in progress have ended (they never wait, so neither does Close for
// long); later ones miss and store nothing. Its series stop being
// reported. Close may be called more than once.
func (c *Cache) Close() {
	c.closeOnce.Do(func() {
		c.closing.Store(true)
		if c.users.Load() == 0 {
			c.markIdle()
		}
		<-c.idle
		c.m.remove(c)
		c.rc.Close()
	})
}

// bytes returns what the entries take, for the metrics.
func (c *Cache) bytes() int64 {
	if !c.enter() {
		return 0
	}
	defer c.leave()
	return c.rc.MaxCost() - c.rc.RemainingCost()
}

// evicted counts an entry the cache evicted to make room. It runs on the
// cache's goroutine. Entries that expired (they carry their expiration)
// and those emptied out by Close are not evictions.
func (c *Cache) evicted(it *ristretto.Item[*entry]) {
	if it.Expiration.IsZero() && !c.closing.Load() {
		c.m.evictions.Inc()
	}
}

// enter reports whether the cache is still open, and if it is, holds it
// open until the matching leave.
func (c *Cache) enter() bool {
	c.users.Add(1)
	if c.closing.Load() {
		c.leave()
		return false
	}
	return true
}

// leave ends a hold taken by a successful enter.
func (c *Cache) leave() {
	if c.users.Add(-1) == 0 && c.closing.Load() {
		c.markIdle()
	}
}

func (c *Cache) markIdle() { c.idleOnce.Do(func() { close(c.idle) }) }
