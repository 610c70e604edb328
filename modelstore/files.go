package modelstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/switchyard-ml/switchyard/internal/regfile"
)

// FileSum is what a manifest records of one of a version's extra files:
// the hex sha256 and the size of its bytes. The loader refuses a version
// whose file disagrees (ErrChecksum).
type FileSum struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// ownFileNames are the files a version directory holds for the registry
// itself; an extra file may not take one of their names.
var ownFileNames = []string{ModelFile, ManifestFile, EvalFile, ProfileFile, CardFile}

// CheckFileName reports, wrapping ErrFileName, why name cannot name an
// extra file of a version: it must be a plain file name (no directory,
// not "." or ".."), and none of model.onnx, manifest.json, eval.csv,
// profile.json and card.md. Subdirectories are not supported.
func CheckFileName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrFileName)
	case name == "." || name == "..":
		return fmt.Errorf("%w: %q", ErrFileName, name)
	case strings.ContainsAny(name, `/\`+"\x00"):
		return fmt.Errorf("%w: %q is a path; a version holds its files side by side, without subdirectories", ErrFileName, name)
	case slices.Contains(ownFileNames, name):
		return fmt.Errorf("%w: %q is a file of the version itself", ErrFileName, name)
	}
	return nil
}

// sumFiles returns the FileSum of each of files, after checking their
// names; nil for none.
func sumFiles(files map[string][]byte) (map[string]FileSum, error) {
	if len(files) == 0 {
		return nil, nil
	}
	sums := make(map[string]FileSum, len(files))
	for name, data := range files {
		if err := CheckFileName(name); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		sums[name] = FileSum{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
	}
	return sums, nil
}

// checkFileSums reports what is wrong with a manifest's files field.
func checkFileSums(files map[string]FileSum) []string {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f := files[name]
		if err := CheckFileName(name); err != nil {
			problems = append(problems, "files: "+err.Error())
		}
		if !isSHA256(f.SHA256) {
			problems = append(problems, fmt.Sprintf("files: %q: sha256 %q is not 64 hex digits", name, f.SHA256))
		}
		if f.Size < 0 {
			problems = append(problems, fmt.Sprintf("files: %q: size %d is negative", name, f.Size))
		}
	}
	return problems
}

// verifyFiles checks each extra file of the version directory dir against
// its recorded sum, reading it through regfile so that a file that is not
// regular or grows past its size is refused. Their total must stay within
// budget bytes (what the model's size limit leaves). It returns the total.
// A missing, changed or truncated file wraps ErrChecksum.
func verifyFiles(dir string, files map[string]FileSum, budget int64, setting string) (int64, error) {
	var total int64
	for _, name := range slices.Sorted(maps.Keys(files)) {
		want := files[name]
		if want.Size > budget-total {
			return 0, fmt.Errorf("%s and the version's other files hold more than the size limit of the model (raise %s to allow a larger model)", name, setting)
		}
		h := sha256.New()
		n, err := hashFile(h, filepath.Join(dir, name), want.Size)
		if errors.Is(err, regfile.ErrTooLarge) || err == nil && n != want.Size {
			return 0, fmt.Errorf("%w: %s holds other than the %d bytes the manifest records", ErrChecksum, name, want.Size)
		}
		if err != nil {
			return 0, fmt.Errorf("%w: %s: %w", ErrChecksum, name, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 {
			return 0, fmt.Errorf("%w: %s has sha256 %s, manifest records %s", ErrChecksum, name, got, want.SHA256)
		}
		total += n
	}
	return total, nil
}

// hashFile writes the regular file at path to w, refusing it once it
// holds more than size+1 bytes: enough to tell that it is not size long.
func hashFile(w io.Writer, path string, size int64) (int64, error) {
	f, err := regfile.Open(path, regfile.Limit{Max: size + 1})
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}
