package suggest

import "testing"

func TestNearestSuccess(t *testing.T) {
	known := []string{"threshold", "max_rows", "label", "min_requests", "amount", "country"}
	f := func(name, want string) {
		t.Helper()
		got, ok := Nearest(name, known)
		if !ok || got != want {
			t.Errorf("Nearest(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	f("treshold", "threshold")  // a deletion
	f("thresohld", "threshold") // a swap
	f("lable", "label")         // a swap in a short name
	f("Label", "label")         // case
	f("max-rows", "max_rows")   // separators
	f("Max Rows", "max_rows")   // both
	f("min_request", "min_requests")
	f("amuont", "amount")
	f("contry", "country")
}

func TestNearestFailure(t *testing.T) {
	known := []string{"threshold", "label", "amount", "a", "id"}
	f := func(name string) {
		t.Helper()
		if got, ok := Nearest(name, known); ok {
			t.Errorf("Nearest(%q) = %q; want no suggestion", name, got)
		}
	}
	f("")
	f("label")  // exists: nothing to suggest
	f("xyz")    // nothing near
	f("b")      // one letter: another name, not a typo of "a"
	f("colour") // far from everything
	f("threshold_value")
}

func TestHint(t *testing.T) {
	if got, want := Hint("lable", []string{"a", "label"}), ` (did you mean "label"?)`; got != want {
		t.Errorf("Hint = %q; want %q", got, want)
	}
	if got := Hint("zzz", []string{"a", "label"}); got != "" {
		t.Errorf("Hint = %q; want none", got)
	}
}

func TestDistance(t *testing.T) {
	f := func(a, b string, want int) {
		t.Helper()
		if got := distance(a, b, 100); got != want {
			t.Errorf("distance(%q, %q) = %d; want %d", a, b, got, want)
		}
	}
	f("", "", 0)
	f("a", "", 1)
	f("", "abc", 3)
	f("kitten", "sitting", 3)
	f("ca", "ac", 1)
	f("café", "cafe", 1)
	f("日本", "本日", 1)
}
