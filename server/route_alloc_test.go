//go:build !race

package server

import "testing"

// TestParseRouteAllocs pins that routing a path, inference and admin
// alike, allocates nothing.
func TestParseRouteAllocs(t *testing.T) {
	for _, path := range []string{"/v2/models/fraud/versions/2/infer", "/v2/models/fraud/infer", "/admin/runs/0123456789abcdef", "/admin/models/fraud"} {
		p := []byte(path)
		n := testing.AllocsPerRun(100, func() {
			if _, err := parseRoute(p); err != nil {
				panic(err)
			}
		})
		if n != 0 {
			t.Errorf("parseRoute(%q): %v allocations; want 0", path, n)
		}
	}
}
