package tracking

import (
	"context"
	"testing"
	"time"
)

// TestAuditNewestFirst: the trail reads newest first by when each entry
// happened, whatever order they were recorded in, and entries of the same
// millisecond read last recorded first. A publish stamped at .941 and
// recorded after the gate_pass it caused (.942) reads below it.
func TestAuditNewestFirst(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	t0 := time.Date(2026, 12, 6, 1, 2, 3, 941_000_000, time.UTC)
	for _, e := range []Entry{
		{Time: t0.Add(time.Millisecond), Actor: "gate", Action: "gate_pass", Model: "m", Versions: []int{2}},
		{Time: t0, Actor: "ana", Action: "publish", Model: "m", Versions: []int{2}},
		{Time: t0.Add(2 * time.Millisecond), Actor: "ana", Action: "promote", Model: "m", Versions: []int{2}},
		{Time: t0.Add(2 * time.Millisecond), Actor: "controller", Action: "advance", Model: "m", Versions: []int{2}},
	} {
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	log, err := s.AuditLog(ctx, AuditQuery{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, e.Time.UTC().Format(".000")+" "+e.Action)
	}
	want := []string{".943 advance", ".943 promote", ".942 gate_pass", ".941 publish"}
	if len(got) != len(want) {
		t.Fatalf("AuditLog = %q; want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("AuditLog = %q; want %q", got, want)
		}
	}
	// A limit keeps the newest in that order.
	log, _ = s.AuditLog(ctx, AuditQuery{Model: "m", Limit: 2})
	if len(log) != 2 || log[0].Action != "advance" || log[1].Action != "promote" {
		t.Fatalf("AuditLog limit 2 = %+v; want advance, promote", log)
	}
}
