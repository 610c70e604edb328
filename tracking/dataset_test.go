package tracking

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDescribeCSVSuccess(t *testing.T) {
	f := func(in string, rows int64, cols ...string) {
		t.Helper()
		d, err := DescribeCSV(strings.NewReader(in))
		sum := sha256.Sum256([]byte(in))
		if err != nil || d.Rows != rows || !slices.Equal(d.Columns, cols) || d.SHA256 != hex.EncodeToString(sum[:]) || d.Path != "" {
			t.Fatalf("DescribeCSV(%q) = %+v, %v; want %d rows, columns %q and the input's sha256", in, d, err, rows, cols)
		}
	}
	f("a,b,label\n1,2,0\n3,4,1\n", 2, "a", "b", "label")
	f("a,b\r\n1,2\r\n", 1, "a", "b")
	f("\ufeffamount, country \n12.5,FR\n", 1, "amount", "country")
	f("x\n1", 1, "x")
	f(`note,y`+"\n"+`"a, quoted
cell",1`+"\n", 1, "note", "y")
}

func TestDescribeCSVFailure(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := DescribeCSV(strings.NewReader(in))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Fatalf("DescribeCSV(%q) = %v; want ErrInvalid mentioning %q", in, err, want)
		}
	}
	f("", "empty")
	f("a,b\n", "no data rows")
	f("a,b\n1,2,3\n", "wrong number of fields")
	f("a,,c\n1,2,3\n", "column 2 of the header has no name")
	f("a,b,a\n1,2,3\n", `column "a" appears twice`)
	f("a,b\n1,\"2\n", "extraneous or missing")
	f("a,b\n1,\x00\x01\n", "line 2, column 2 is not text")
	f("\x08\x01\x12\x0bpytorch\xff\xfe\n", "not text")
}

func TestReproTags(t *testing.T) {
	r := Repro{CodeRevision: "abc", Seed: "7", TrainSHA256: strings.Repeat("ab", 32), GoVersion: "go1.26", ORTVersion: "1.24.1",
		OS: "linux", Arch: "amd64", CommandLine: "switchyard publish --model m"}
	tags := r.Tags()
	if !slices.IsSortedFunc(tags, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) }) {
		t.Fatalf("Tags() = %v; want them sorted by key", tags)
	}
	for _, tag := range tags {
		if tag.Value == "" || !strings.HasPrefix(tag.Key, "switchyard.") && tag.Key != TagGitCommit {
			t.Fatalf("Tags() holds %v", tag)
		}
	}
	if err := CheckBatch(nil, nil, tags); err != nil {
		t.Fatalf("CheckBatch(Tags()) = %v", err)
	}
	if got := ReproOf(tags); got != r {
		t.Fatalf("ReproOf(Tags()) = %+v; want %+v", got, r)
	}
	// A run an MLflow client logged in a git repository.
	if got := ReproOf([]Tag{{TagGitCommit, "def"}, {"mlflow.user", "ana"}}); got != (Repro{CodeRevision: "def"}) {
		t.Fatalf("ReproOf(MLflow's tags) = %+v; want code revision def", got)
	}
	long := Repro{CommandLine: strings.Repeat("é", MaxTagValueLength)}
	if tags := long.Tags(); len(tags) != 1 || len(tags[0].Value) > MaxTagValueLength || CheckBatch(nil, nil, tags) != nil {
		t.Fatalf("a long command line gives tags of %d bytes", len(tags[0].Value))
	}
}
