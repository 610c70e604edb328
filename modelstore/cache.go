package modelstore

import (
	"github.com/switchyard-ml/switchyard/respcache"
)

// applyCache makes the model's response cache what policy.yaml's cache
// block p says, from the next request on: none without the block (the
// cache in place, if any, is closed), else one bounded by its max_bytes
// and ttl (the cache in place is resized and keeps its answers; a new
// one starts empty). The reconciler calls it, and Close.
func (s *Store) applyCache(m *model, p *CachePolicy) {
	old := m.live.cache.Load()
	if p == nil {
		if old != nil {
			m.live.cache.Store(nil)
			old.Close()
			s.log.Info("response cache off", "model", m.name)
		}
		return
	}
	maxBytes, ttl := p.Limits()
	if old != nil {
		if oldBytes, oldTTL := old.Limits(); oldBytes != maxBytes || oldTTL != ttl {
			old.Resize(maxBytes, ttl)
			s.log.Info("response cache resized", "model", m.name, "max_bytes", maxBytes, "ttl", ttl)
		}
		return
	}
	c, err := respcache.New(respcache.Config{Model: m.name, MaxBytes: maxBytes, TTL: ttl, Metrics: s.cfg.CacheMetrics})
	if err != nil { // ParsePolicy refused what New would
		s.log.Error("response cache not started", "model", m.name, "error", err)
		return
	}
	m.live.cache.Store(c)
	s.log.Info("response cache on", "model", m.name, "max_bytes", maxBytes, "ttl", ttl)
}
