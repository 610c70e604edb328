package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"
)

// adminModel is the part of GET /admin/models/{m} the scenarios read.
type adminModel struct {
	ServingVersion int            `json:"serving_version"`
	Versions       []adminVersion `json:"versions"`
}

// adminVersion is one version in adminModel.
type adminVersion struct {
	Version   int    `json:"version"`
	State     string `json:"state"`
	TrafficBP int    `json:"traffic_bp"`
}

// version returns the entry of version v, or nil.
func (m *adminModel) version(v int) *adminVersion {
	for i := range m.Versions {
		if m.Versions[i].Version == v {
			return &m.Versions[i]
		}
	}
	return nil
}

// ready counts the versions whose state is READY.
func (m *adminModel) ready() int {
	n := 0
	for _, v := range m.Versions {
		if v.State == "READY" {
			n++
		}
	}
	return n
}

// adminClient talks to one model's operations API over one connection of
// its own. It belongs to one goroutine; its owner must call close.
type adminClient struct {
	client *fasthttp.HostClient
	req    *fasthttp.Request
	resp   *fasthttp.Response
	base   string // http://addr/admin/models/{m}
}

func newAdminClient(addr, model string) *adminClient {
	return &adminClient{base: "http://" + addr + "/admin/models/" + model,
		req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse(),
		client: &fasthttp.HostClient{Addr: addr, Name: "switchyard-bench-admin", MaxConns: 1,
			MaxIdemponentCallAttempts: 1, ReadTimeout: DefaultTimeout, WriteTimeout: DefaultTimeout}}
}

func (a *adminClient) close() {
	a.client.CloseIdleConnections()
	fasthttp.ReleaseRequest(a.req)
	fasthttp.ReleaseResponse(a.resp)
}

// do sends the request set up in a.req and wants a 200.
func (a *adminClient) do(what string) error {
	if err := a.client.Do(a.req, a.resp); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if a.resp.StatusCode() != fasthttp.StatusOK {
		return fmt.Errorf("%s: status %d: %.300s", what, a.resp.StatusCode(), a.resp.Body())
	}
	return nil
}

// action POSTs body to the model's action (promote or rollback).
func (a *adminClient) action(action string, body map[string]any) error {
	body["actor"] = "bench"
	b, _ := json.Marshal(body) // strings and integers always encode
	a.req.Reset()
	a.req.SetRequestURI(a.base + "/" + action)
	a.req.Header.SetMethod(fasthttp.MethodPost)
	a.req.Header.SetContentType("application/json")
	a.req.SetBody(b)
	return a.do(fmt.Sprintf("%s %s", action, b))
}

// model reads the model's status.
func (a *adminClient) model() (*adminModel, error) {
	a.req.Reset()
	a.req.SetRequestURI(a.base)
	if err := a.do("GET " + a.base); err != nil {
		return nil, err
	}
	var m adminModel
	if err := json.Unmarshal(a.resp.Body(), &m); err != nil {
		return nil, fmt.Errorf("GET %s: %w", a.base, err)
	}
	return &m, nil
}

// await reads the model's status about every millisecond until ok holds,
// and fails once timeout has passed; what describes ok in that error.
func (a *adminClient) await(ctx context.Context, timeout time.Duration, what string, ok func(*adminModel) bool) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(timeout)
	for {
		m, err := a.model()
		if err == nil && ok(m) {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("last status %+v", *m)
			}
			return fmt.Errorf("bench: no %s within %v: %w", what, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
