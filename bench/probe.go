package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// prober asks the server which version answers, one request at a time
// over one connection of its own. It belongs to one goroutine; its owner
// must call close.
type prober struct {
	client      *fasthttp.HostClient
	req         *fasthttp.Request
	resp        *fasthttp.Response
	url         string
	start       time.Time
	probes      tally
	newest      int   // the newest version a probe was answered by
	badVersions int64 // answers without a version or from one older than newest
}

func newProber(addr, url string, body []byte) *prober {
	p := &prober{url: url, start: time.Now(), probes: tally{status: make(map[int]int64, 2)},
		req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse(),
		client: &fasthttp.HostClient{Addr: addr, Name: "switchyard-bench-probe", MaxConns: 1,
			MaxIdemponentCallAttempts: 1, ReadTimeout: DefaultTimeout, WriteTimeout: DefaultTimeout}}
	p.req.SetRequestURI(url)
	p.req.Header.SetMethod(fasthttp.MethodPost)
	p.req.Header.SetContentType("application/json")
	p.req.SetBodyRaw(body) // read-only while the prober lives
	return p
}

func (p *prober) close() {
	p.client.CloseIdleConnections()
	fasthttp.ReleaseRequest(p.req)
	fasthttp.ReleaseResponse(p.resp)
}

// await probes about every millisecond until an answer comes from version
// want, and returns how long after since it arrived. It gives up once
// timeout has passed since since.
func (p *prober) await(ctx context.Context, want int, since time.Time, timeout time.Duration) (time.Duration, error) {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		sent := time.Now()
		err := p.client.Do(p.req, p.resp)
		done := time.Now()
		p.probes.record(sent, done, p.resp.StatusCode(), err)
		header := p.resp.Header.Peek("X-Model-Version")
		if err == nil && p.resp.StatusCode() == fasthttp.StatusOK {
			switch v, verr := strconv.Atoi(string(header)); {
			case verr != nil || v < p.newest:
				p.badVersions++
			case v == want:
				p.newest = v
				return done.Sub(since), nil
			default:
				p.newest = v
			}
		}
		if done.Sub(since) > timeout {
			last := fmt.Sprintf("status %d, X-Model-Version %q", p.resp.StatusCode(), header)
			if err != nil {
				last = err.Error()
			}
			return 0, fmt.Errorf("version %d did not answer within %v of its publish (last probe: %s)", want, timeout, last)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
	}
}

// result summarises the probes as a load run over one connection.
func (p *prober) result() *Result {
	g := &generator{cfg: Config{URL: p.url, Connections: 1, RowsPerRequest: 1}, mstart: p.start}
	return g.result([]*tally{&p.probes})
}
