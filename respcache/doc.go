// Package respcache is the response cache: per model, the answers its
// versions gave, filed by the exact inputs they were given, so that a
// repeated request is answered without running the model.
//
// It owns the cache itself (a ristretto cache bounded in bytes, each
// answer kept at most a TTL), how a question is keyed and checked, and
// the cache's metrics. It leaves to others when a model has a cache and
// how big it is (modelstore reads policy.yaml's cache block), which
// version answers (routing happens before the lookup) and how an answer
// is encoded (the server encodes a hit as it encodes a run).
//
// The key is the load of the version that answers, a number that no other
// load of any version shares, and a 64-bit hash of the input tensors'
// element types, shapes and bytes. An entry keeps its load and inputs
// too, and a lookup compares them in full, so that neither a hash
// collision nor a swap of versions can ever answer one question with
// another's answer. An entry holds every output the version gave, not an
// HTTP body: requests that ask for some outputs, or for binary data, or
// that come as records, are answered from the same entry.
//
// Concurrency: Lookup and Put are safe for concurrent use and never wait
// on anything but the cache's own shard locks; a Put is applied by the
// cache's goroutine shortly after it returns, so an answer just stored may
// miss once more. Resize and Close are for the one owner of the cache (the
// model store's reconciler); Close waits for the lookups and puts in
// progress, then ends the cache's goroutines.
//
// Usage:
//
//	c, err := respcache.New(respcache.Config{Model: "fraud", MaxBytes: 64 << 20, TTL: 5 * time.Minute, Metrics: m})
//	defer c.Close()
//	key, hit := c.Lookup(load, in, out) // out filled on a hit
//	if !hit {
//		run(in, out)
//		c.Put(key, in, out)
//	}
package respcache
