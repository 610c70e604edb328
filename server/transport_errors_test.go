package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestHeadersTooLarge sends request headers past fasthttp's read buffer
// over loopback: the answer is 431 in the server's JSON error form, and
// it does not echo the headers back.
func TestHeadersTooLarge(t *testing.T) {
	ts := startServer(t, Config{})
	secret := strings.Repeat("s3cr3t", 1000) // 6000 bytes, past the 4096 of the buffer
	r := ts.raw(t, "GET /v2/models/mlp HTTP/1.1\r\nHost: x\r\nCookie: "+secret+"\r\n\r\n")
	var body struct{ Error string }
	if r.status != 431 || r.header.Get("Content-Type") != "application/json" || json.Unmarshal(r.body, &body) != nil {
		t.Fatalf("GET with %d bytes of headers = %d %v %s; want 431 with a JSON error", len(secret), r.status, r.header, r.body)
	}
	if strings.Contains(string(r.body), "s3cr3t") || !strings.Contains(body.Error, "4096 bytes") {
		t.Fatalf("GET with %d bytes of headers = %s; want the limit named and no header echoed", len(secret), r.body)
	}
	// The server still answers requests of the usual size.
	if r := ts.do(t, "GET", "/v2/models/mlp", ""); r.status != 200 {
		t.Fatalf("GET /v2/models/mlp after the 431 = %d %s", r.status, r.body)
	}
}
