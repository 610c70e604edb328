package tracking

import (
	"context"
	"fmt"
	"strings"
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

// TestAuditOfVersion: Version keeps the entries that name the version
// among others (a promote names stable and candidate), and ExceptActions
// drops the actions named.
func TestAuditOfVersion(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for _, e := range []Entry{
		{Actor: "ana", Action: "publish", Model: "m", Versions: []int{2}},
		{Actor: "ana", Action: "publish", Model: "m", Versions: []int{12}},
		{Actor: "lifecycle", Action: "loaded", Model: "m", Versions: []int{2}},
		{Actor: "ana", Action: "promote", Model: "m", Versions: []int{1, 2}},
		{Actor: "ana", Action: "publish", Model: "other", Versions: []int{2}},
		{Actor: "ana", Action: "delete", Model: "m"},
	} {
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	f := func(q AuditQuery, want string) {
		t.Helper()
		log, err := s.AuditLog(ctx, q)
		var got []string
		for _, e := range log {
			got = append(got, fmt.Sprint(e.Action, e.Versions))
		}
		if err != nil || strings.Join(got, " ") != want {
			t.Fatalf("AuditLog(%+v) = %q, %v; want %s", q, got, err, want)
		}
	}
	f(AuditQuery{Model: "m", Version: 2}, "promote[1 2] loaded[2] publish[2]")
	f(AuditQuery{Model: "m", Version: 2, ExceptActions: []string{"loaded", "drained"}}, "promote[1 2] publish[2]")
	f(AuditQuery{Model: "m", Version: 1}, "promote[1 2]")
	f(AuditQuery{Model: "m", Version: 3}, "")
}
