package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// readmeMaxLines bounds README.md: it is the front door (the pitch, the
// two commands, the walkthrough, the features and the packages), and the
// rest lives in docs/.
const readmeMaxLines = 220

// TestDocsLinks checks README.md and docs/*.md: every relative link names
// a file that exists and, with a #fragment, a heading of that file (as
// GitHub makes anchors of headings); every page of docs/ links back to
// the README and is linked from it; the README stays short.
func TestDocsLinks(t *testing.T) {
	root := filepath.Join("..", "..")
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("docs/ has no pages")
	}
	readme := filepath.Join(root, "README.md")
	docs := map[string]*mdDoc{}
	for _, p := range append([]string{readme}, pages...) {
		docs[filepath.Clean(p)] = readMarkdown(t, p)
	}
	if n := docs[filepath.Clean(readme)].lines; n > readmeMaxLines {
		t.Errorf("README.md has %d lines; want at most %d (move detail to docs/)", n, readmeMaxLines)
	}

	linked := map[string]bool{} // file -> linked from the README
	for path, d := range docs {
		for _, l := range d.links {
			file, frag, _ := strings.Cut(l.target, "#")
			dest := path
			if file != "" {
				dest = filepath.Clean(filepath.Join(filepath.Dir(path), filepath.FromSlash(file)))
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s:%d: link %q: %v", path, l.line, l.target, err)
					continue
				}
			}
			if path == filepath.Clean(readme) {
				linked[dest] = true
			}
			if frag == "" {
				continue
			}
			to, ok := docs[dest]
			if !ok {
				t.Errorf("%s:%d: link %q: a #fragment into a file that is not README.md or docs/*.md", path, l.line, l.target)
				continue
			}
			if !slices.Contains(to.anchors, frag) {
				t.Errorf("%s:%d: link %q: %s has no heading with anchor %q", path, l.line, l.target, dest, frag)
			}
		}
	}
	for _, p := range pages {
		p = filepath.Clean(p)
		if !linked[p] {
			t.Errorf("%s: no link to it from README.md", p)
		}
		back := false
		for _, l := range docs[p].links {
			file, _, _ := strings.Cut(l.target, "#")
			back = back || filepath.Clean(filepath.Join(filepath.Dir(p), file)) == filepath.Clean(readme)
		}
		if !back {
			t.Errorf("%s: no link back to README.md", p)
		}
	}
}

// TestGitHubAnchor checks the anchors readMarkdown derives from headings
// against those GitHub gives them.
func TestGitHubAnchor(t *testing.T) {
	f := func(heading, want string) {
		t.Helper()
		if got := githubAnchor(heading); got != want {
			t.Errorf("githubAnchor(%q) = %q; want %q", heading, got, want)
		}
	}
	f("Try it", "try-it")
	f("switchyard eval: the same gate in a model repository's CI", "switchyard-eval-the-same-gate-in-a-model-repositorys-ci")
	f("OpenAPI documents and /docs", "openapi-documents-and-docs")
	f("status, runs, audit", "status-runs-audit")
	f("`make bench` and [its figures](benchmarks.md)", "make-bench-and-its-figures")
	f("keep_previous — a dash", "keep_previous--a-dash")
}

// mdDoc is what TestDocsLinks reads of one Markdown file.
type mdDoc struct {
	lines   int
	anchors []string // of its headings, in order, duplicates numbered as GitHub does
	links   []mdLink // relative links outside code
}

// mdLink is a relative link and the line it is on.
type mdLink struct {
	target string
	line   int
}

var (
	mdHeading  = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	mdLinkRe   = regexp.MustCompile(`!?\[[^\]]*\]\(<?([^)\s>]+)>?(?:\s+"[^"]*")?\)`)
	mdCodeSpan = regexp.MustCompile("`[^`]*`")
	mdScheme   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// readMarkdown reads the headings and relative links of the Markdown file
// at path, leaving out fenced blocks and code spans.
func readMarkdown(t *testing.T, path string) *mdDoc {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := &mdDoc{}
	seen := map[string]int{}
	fence := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		d.lines++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		if m := mdHeading.FindStringSubmatch(line); m != nil {
			a := githubAnchor(m[2])
			if n := seen[a]; n > 0 {
				seen[a] = n + 1
				a += "-" + strconv.Itoa(n)
			} else {
				seen[a] = 1
			}
			d.anchors = append(d.anchors, a)
		}
		for _, m := range mdLinkRe.FindAllStringSubmatch(mdCodeSpan.ReplaceAllString(line, ""), -1) {
			if !mdScheme.MatchString(m[1]) {
				d.links = append(d.links, mdLink{target: m[1], line: d.lines})
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

// githubAnchor returns the anchor GitHub gives a heading: its text as
// rendered (code spans and links reduced to their text), lower-cased,
// without punctuation but hyphens and underscores, each space a hyphen.
func githubAnchor(heading string) string {
	heading = mdLinkRe.ReplaceAllStringFunc(heading, func(l string) string {
		return l[strings.IndexByte(l, '[')+1 : strings.IndexByte(l, ']')]
	})
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.Pc):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestTrainingScriptInDocs checks that the training script docs/tracking.md
// shows is scripts/mlflow-client/train.py, the one the recorded MLflow
// session (TestMLflowClientReplay) ran.
func TestTrainingScriptInDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/tracking.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("../../scripts/mlflow-client/train.py")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```python\n"+string(script)+"```\n") {
		t.Fatal("docs/tracking.md does not show scripts/mlflow-client/train.py as it is: copy the script into its python block")
	}
}
