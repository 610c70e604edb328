package rollout

import "testing"

func TestTableWithIsCopyOnWrite(t *testing.T) {
	var r Router[string]
	if _, ok := r.Table().Route("m").Pick(); ok {
		t.Fatal("the zero Router routes a model")
	}
	t1 := r.Table().With("m", Single(1, "v1", map[int]string{1: "v1"}))
	r.Publish(t1)
	t2 := t1.With("m", Single(2, "v2", map[int]string{1: "v1", 2: "v2"})).With("other", Single(7, "o7", nil))
	if got, _ := t1.Route("m").Pick(); got != "v1" {
		t.Fatalf("With changed the table it copied: Pick = %q", got)
	}
	if t1.Route("other") != nil {
		t.Fatal("With added a model to the table it copied")
	}
	r.Publish(t2)
	f := func(model string, version int, want string, wantOK bool) {
		t.Helper()
		rt := r.Table().Route(model)
		var got string
		var ok bool
		if version == 0 {
			got, ok = rt.Pick()
		} else {
			got, ok = rt.Version(version)
		}
		if got != want || ok != wantOK {
			t.Errorf("route %s version %d = %q, %v; want %q, %v", model, version, got, ok, want, wantOK)
		}
	}
	f("m", 0, "v2", true)
	f("m", 1, "v1", true)
	f("m", 3, "", false)
	f("other", 0, "o7", true)
	f("nope", 0, "", false)
	f("nope", 1, "", false)
	r.Publish(r.Table().With("m", nil))
	f("m", 0, "", false)
	f("other", 0, "o7", true)
}

func TestStable(t *testing.T) {
	f := func(ready []int, want int) {
		t.Helper()
		if got := Stable(ready); got != want {
			t.Errorf("Stable(%v) = %d; want %d", ready, got, want)
		}
	}
	f(nil, 0)
	f([]int{3}, 3)
	f([]int{1, 2, 5}, 5)
}
