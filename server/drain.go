package server

import "github.com/valyala/fasthttp"

// Drain starts taking the server out of its load balancer's rotation
// while it keeps serving: readiness checks fail from now on, and every
// answer closes its keep-alive connection (Connection: close), so that
// clients reconnect, through the balancer, to another replica. The caller
// waits for the balancer to notice (serve --drain-delay) and then calls
// Shutdown. Drain may be called more than once.
func (s *Server) Drain() { s.draining.Store(true) }

// closeIfDraining makes a draining server's answer close its connection.
func (s *Server) closeIfDraining(ctx *fasthttp.RequestCtx) {
	if s.draining.Load() {
		ctx.SetConnectionClose()
	}
}
