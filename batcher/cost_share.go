package batcher

import (
	"context"
	"time"
)

// DefaultShareInterval is how often a server's ShareCPU reads the
// process's CPU time.
const DefaultShareInterval = 5 * time.Second

// cpuShare is the sampler's state. Guarded by Metrics.mu.
type cpuShare struct {
	// cpu is the process's CPU time at the last sample; sampled is false
	// before the first.
	cpu     time.Duration
	sampled bool
	// goneNanos is the model time of queues closed since the last
	// sample, run within the interval: it was spent, so it is not the
	// rest of the process's CPU time either.
	goneNanos int64
	// deltas is scratch for one sample: each live queue's requests in the
	// interval.
	deltas map[*usage]int64
}

// ShareCPU gives out the process's CPU time to the versions that run
// requests: every interval (DefaultShareInterval when 0) it reads the
// process's user and system CPU time, subtracts the model time every
// queue was charged in the interval, and gives what is left to the queues
// that ran requests in it, in proportion to their requests
// (Cost.ProcessSeconds). CPU time of an interval in which no request ran,
// and model time beyond the process's CPU time, are given to no one.
//
// ShareCPU returns when ctx is done, or at once where the process's CPU
// time cannot be read (outside Unix); call it once per Metrics, on a
// goroutine its caller owns. It reads no clock and takes no lock on the
// hot path: requests only add to their queue's atomics.
func (m *Metrics) ShareCPU(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultShareInterval
	}
	cpu, ok := processCPU()
	if !ok {
		return
	}
	m.shareCPU(cpu)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if cpu, ok := processCPU(); ok {
				m.shareCPU(cpu)
			}
		}
	}
}

// shareCPU ends an interval at which the process had used cpu of CPU
// time, and gives the live queues their share of it.
func (m *Metrics) shareCPU(cpu time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := &m.share
	if s.deltas == nil {
		s.deltas = map[*usage]int64{}
	}
	clear(s.deltas)
	modelNanos, requests := s.goneNanos, int64(0)
	for u := range m.live {
		n, r := u.modelNanos.Load(), u.requests.Load()
		modelNanos += n - u.seenNanos
		if d := r - u.seenRequests; d > 0 {
			s.deltas[u] = d
			requests += d
		}
		u.seenNanos, u.seenRequests = n, r
	}
	elapsed := cpu - s.cpu
	first := !s.sampled
	s.cpu, s.sampled, s.goneNanos = cpu, true, 0
	rest := int64(elapsed) - modelNanos
	if first || rest <= 0 || requests == 0 {
		return
	}
	for u, d := range s.deltas {
		u.processNanos.Add(int64(float64(rest) * float64(d) / float64(requests)))
	}
}

// forget stops accounting for a closed queue: its series leave the
// scrape, and its model time of the current interval still counts
// against the process's CPU time.
func (m *Metrics) forget(u *usage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.live[u]; !ok {
		return
	}
	delete(m.live, u)
	m.share.goneNanos += u.modelNanos.Load() - u.seenNanos
}
