package main

import "testing"

func TestByteSizeSet(t *testing.T) {
	f := func(in string, want int64, ok bool) {
		t.Helper()
		var b byteSize
		err := b.Set(in)
		if (err == nil) != ok || ok && int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d, ok %v", in, b, err, want, ok)
		}
	}
	f("0", 0, true)
	f("1048576", 1<<20, true)
	f("512MiB", 512<<20, true)
	f("2GiB", 2<<30, true)
	f("1.5 GiB", 3<<29, true)
	f("64KiB", 64<<10, true)
	f("10B", 10, true)
	f("", 0, false)
	f("lots", 0, false)
	f("-1GiB", 0, false)
	f("2GB", 0, false)
}
