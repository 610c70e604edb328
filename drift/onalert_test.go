package drift

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestOnAlertGetsEachAlertAfterItIsAudited(t *testing.T) {
	audit := &auditLog{}
	got := make(chan Alert, 10)
	audited := make(chan int, 10)
	m, _, _ := newTestMonitor(t, Config{Auditor: audit, Tick: 5 * time.Millisecond, now: time.Now,
		OnAlert: func(a Alert) {
			audited <- len(audit.all())
			select {
			case got <- a:
			default:
				t.Error("OnAlert: the test's channel is full")
			}
		}})
	p := testPolicy()
	p.Interval = 5 * time.Millisecond
	src := newSource(writeProfile(t), p)
	rng := rand.New(rand.NewPCG(13, 14))
	run(t, m)

	next := func() Alert {
		t.Helper()
		select {
		case a := <-got:
			return a
		case <-time.After(10 * time.Second):
			t.Fatal("OnAlert was not called")
			return Alert{}
		}
	}
	send(t, m, src, rng, 200, 1.5)
	if a := next(); a.Feature != "a" || !a.Drifted || a.Model != "m" || a.Version != 1 {
		t.Fatalf("first alert = %+v; want feature a drifted", a)
	}
	if n := <-audited; n != 1 {
		t.Errorf("OnAlert saw %d audit entries; want the alert's own, 1", n)
	}
	send(t, m, src, rng, 200, 0)
	if a := next(); a.Feature != "a" || a.Drifted {
		t.Fatalf("second alert = %+v; want feature a back to no drift", a)
	}
}
