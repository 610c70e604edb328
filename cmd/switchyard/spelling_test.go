package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/demo"
)

// fencedLines returns the lines inside the fenced code blocks of the
// markdown file at path, with their line numbers, a console block's
// "$ " prompt taken off.
func fencedLines(t *testing.T, path string) (lines []string, numbers []int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	in := false
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			continue
		}
		if in {
			lines = append(lines, strings.TrimPrefix(strings.TrimSpace(line), "$ "))
			numbers = append(numbers, i+1)
		}
	}
	return lines, numbers
}

// verbPattern matches a command line's start: a word, then a verb of the
// CLI.
func verbPattern(t *testing.T, word string) *regexp.Regexp {
	t.Helper()
	return regexp.MustCompile(`^` + regexp.QuoteMeta(word) + ` (` + strings.Join(verbNames(), "|") + `)\b`)
}

// TestCommandSpelling holds the rule docs/cli.md states: the README's
// examples and the commands the demo prints write bin/switchyard (they
// run from a checkout); the pages in docs/ write switchyard (the binary
// on PATH).
func TestCommandSpelling(t *testing.T) {
	root := filepath.Join("..", "..")
	bare, bin := verbPattern(t, "switchyard"), verbPattern(t, "bin/switchyard")
	sentence := regexp.MustCompile(`switchyard demo (serves|trains)`) // the demo's own words, not a command
	lines, numbers := fencedLines(t, filepath.Join(root, "README.md"))
	for i, l := range lines {
		if bare.MatchString(sentence.ReplaceAllString(l, "")) {
			t.Errorf("README.md:%d: %q; the README's commands write bin/switchyard", numbers[i], l)
		}
	}
	pages, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	for _, p := range pages {
		lines, numbers := fencedLines(t, p)
		for i, l := range lines {
			if bin.MatchString(l) {
				t.Errorf("%s:%d: %q; the pages in docs/ write switchyard, the installed binary", p, numbers[i], l)
			}
		}
	}
	cli, err := os.ReadFile(filepath.Join(root, "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	if head := strings.Join(strings.SplitN(string(cli), "\n", 16)[:15], "\n"); !strings.Contains(head, "`bin/switchyard`") ||
		!strings.Contains(head, "TestCommandSpelling") {
		t.Errorf("docs/cli.md does not state the rule in its first lines:\n%s", head)
	}

	// The demo's printout: every command it prints, in every string of
	// its source (a command has arguments: a flag or a formatted value).
	command := regexp.MustCompile(`(^|[^/\w])switchyard (` + strings.Join(verbNames(), "|") + `) (--|%|\w)`)
	for _, file := range []string{"demo.go", "demo_serve.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(s, "\n") {
				if command.MatchString(sentence.ReplaceAllString(line, "")) {
					t.Errorf("%s prints %q; the demo's commands write bin/switchyard", file, strings.TrimSpace(line))
				}
			}
			return true
		})
	}
	var out strings.Builder
	try := &demoTry{registry: "registry", addr: "localhost:8080", record: make([]float64, len(demo.Features()))}
	try.offline(&out)
	try.serving(&out)
	for line := range strings.Lines(out.String()) {
		if command.MatchString(sentence.ReplaceAllString(line, "")) {
			t.Errorf("the demo prints %q; its commands write bin/switchyard", strings.TrimSpace(line))
		}
	}
}

// verbNames returns the CLI's verbs.
func verbNames() []string {
	var names []string
	for _, v := range verbs() {
		names = append(names, v.name)
	}
	return names
}

// TestRecordsExampleFields: the records requests that docs/records.md
// and the README post name only fields the demo model has, since the
// demo's fraud model is what they query.
func TestRecordsExampleFields(t *testing.T) {
	known := map[string]bool{}
	for _, f := range demo.Features() {
		known[f.Name] = true
	}
	root := filepath.Join("..", "..")
	body := regexp.MustCompile(`(?s)-d '(\{"instances".*?\})'`)
	n := 0
	for _, page := range []string{"README.md", filepath.Join("docs", "records.md")} {
		data, err := os.ReadFile(filepath.Join(root, page))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range body.FindAllStringSubmatch(string(data), -1) {
			var req struct{ Instances []map[string]any }
			if err := json.Unmarshal([]byte(m[1]), &req); err != nil {
				t.Errorf("%s: a records request that is not JSON: %v\n%s", page, err, m[1])
				continue
			}
			n++
			for i, inst := range req.Instances {
				for name := range inst {
					if !known[name] {
						t.Errorf("%s: instance %d of %s posts %q, which the demo's fraud model does not have", page, i, m[1], name)
					}
				}
			}
		}
	}
	if n < 4 {
		t.Errorf("found %d records requests in README.md and docs/records.md; want at least 4", n)
	}
}

// TestMakeRunAddr: `make run ADDR=...` is documented, and the Makefile
// passes ADDR and REGISTRY to the demo.
func TestMakeRunAddr(t *testing.T) {
	root := filepath.Join("..", "..")
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^run:.*\n\t.*demo --serve --registry \$\(REGISTRY\) --addr \$\(ADDR\)`).Match(mk) {
		t.Errorf("Makefile's run target does not pass REGISTRY and ADDR to demo --serve:\n%s", mk)
	}
	for _, page := range []string{"README.md", filepath.Join("docs", "cli.md")} {
		data, err := os.ReadFile(filepath.Join(root, page))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile("`make run\\s+ADDR=").Match(data) {
			t.Errorf("%s does not show `make run ADDR=...`", page)
		}
	}
}
