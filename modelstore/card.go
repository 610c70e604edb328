package modelstore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"unicode/utf8"

	"github.com/switchyard-ml/switchyard/internal/regfile"
)

// CardFile is a version's optional card text: markdown its publisher wrote
// (publish --card), such as the model's intended use and limitations. It
// is written with the version and never changes; the manifest records its
// sha256 and size (Manifest.Card), so an edit after publish is detected.
const CardFile = "card.md"

// MaxCardBytes bounds a card text: 64 KiB, pages of prose.
const MaxCardBytes = 64 << 10

// cardLimit is the limit of a card file, with what its error says.
var cardLimit = regfile.Limit{Max: MaxCardBytes, Remedy: "a model card's text is a few pages of markdown: shorten it"}

// ReadCardFile reads a card text to publish from path: a regular file of
// at most MaxCardBytes. Errors wrap regfile.ErrNotRegular,
// regfile.ErrTooLarge or the filesystem's error; CheckCard then checks
// what it holds.
func ReadCardFile(path string) ([]byte, error) {
	return regfile.Read(path, cardLimit)
}

// CheckCard reports, wrapping ErrCard, why text cannot be a version's card
// text: it is empty, larger than MaxCardBytes, not UTF-8, or holds a NUL
// byte.
func CheckCard(text []byte) error {
	switch {
	case len(text) == 0:
		return fmt.Errorf("%w: empty", ErrCard)
	case len(text) > MaxCardBytes:
		return fmt.Errorf("%w: %d bytes, above the limit of %d", ErrCard, len(text), MaxCardBytes)
	case !utf8.Valid(text):
		return fmt.Errorf("%w: not UTF-8 text", ErrCard)
	}
	for i, c := range text {
		if c == 0 {
			return fmt.Errorf("%w: a NUL byte at offset %d: not text", ErrCard, i)
		}
	}
	return nil
}

// ReadCard returns the card text of the version in dir whose manifest is
// m, or "" when it was published without one. It fails, wrapping
// ErrChecksum, when card.md is missing or no longer what the manifest
// records (it was edited after publish), and with ErrCard when it is
// not text.
func ReadCard(dir string, m *Manifest) (string, error) {
	if m.Card == nil {
		return "", nil
	}
	text, err := regfile.Read(filepath.Join(dir, CardFile), cardLimit)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrChecksum, CardFile, err)
	}
	sum := sha256.Sum256(text)
	if got := hex.EncodeToString(sum[:]); got != m.Card.SHA256 || int64(len(text)) != m.Card.Size {
		return "", fmt.Errorf("%w: %s has sha256 %s (%d bytes), the manifest records %s (%d bytes): it was edited after publish",
			ErrChecksum, CardFile, got, len(text), m.Card.SHA256, m.Card.Size)
	}
	if err := CheckCard(text); err != nil {
		return "", err
	}
	return string(text), nil
}

// cardSum checks text and returns what the manifest records of it, or nil
// for none.
func cardSum(text []byte) (*FileSum, error) {
	if text == nil {
		return nil, nil
	}
	if err := CheckCard(text); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(text)
	return &FileSum{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(text))}, nil
}
