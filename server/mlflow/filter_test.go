package mlflow

import "testing"

// FuzzRegistryFilter checks that no filter makes the parser panic, and
// that a filter it accepts names only the attributes it was given.
func FuzzRegistryFilter(f *testing.F) {
	for _, s := range []string{"name='fraud'", "name = 'fraud'", `name="x" AND run_id='r'`, "name LIKE 'fr%'",
		"name ILIKE '%A_'", "name!='x'", "`name` = 'x'", "name = 'x", "name", "and", "name == 'x'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		filter, err := parseRegistryFilter(s, "name", "run_id")
		if err != nil {
			return
		}
		for _, c := range filter {
			if c.key != "name" && c.key != "run_id" {
				t.Fatalf("parseRegistryFilter(%q) compares %q", s, c.key)
			}
		}
		filter.match(func(string) string { return "fraud" })
	})
}
