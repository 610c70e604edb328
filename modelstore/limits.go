package modelstore

import (
	"fmt"

	"github.com/switchyard-ml/switchyard/internal/regfile"
)

// The size limits of the files a registry or a publish hands the store.
// Each is far above what a real file needs, and refuses an endless or
// absurd one (the hostile probe of issue 23 used /dev/zero) before
// anything is allocated for it. A file that is not a regular file (a FIFO,
// a device, a directory) is refused whatever its size.
const (
	// MaxManifestBytes bounds a manifest.json: 16 MiB. A manifest is a
	// few KiB; its largest part is the records schema (MaxSchemaBytes as
	// written, larger as indented JSON), with room for lineage.
	MaxManifestBytes = 16 << 20
	// MaxPolicyBytes bounds a policy.yaml: 1 MiB, for a file of a few
	// dozen settings.
	MaxPolicyBytes = 1 << 20
	// MaxSchemaBytes bounds a schema file (publish --schema): 4 MiB, room
	// for thousands of features with their allowed values.
	MaxSchemaBytes = 4 << 20
	// DefaultMaxModelBytes is the size limit of a model.onnx when
	// Config.MaxModelBytes is 0: 2 GiB, the most a protobuf, and so an
	// ONNX model without external data, can hold.
	DefaultMaxModelBytes = 2 << 30
)

// Limits of the fixed-size files, with what their errors say.
var (
	manifestLimit = regfile.Limit{Max: MaxManifestBytes, Remedy: "a manifest.json is a few KiB: this is not one"}
	policyLimit   = regfile.Limit{Max: MaxPolicyBytes, Remedy: "a policy.yaml is a few KiB: this is not one"}
	schemaLimit   = regfile.Limit{Max: MaxSchemaBytes, Remedy: "a records schema is at most a few hundred KiB: this is not one"}
)

// ReadModel reads the model file at path, refusing before it reads, and
// while it reads, a file that is not a regular file or holds more than
// max bytes (0 means DefaultMaxModelBytes). setting names, in the error,
// what raises the limit: "--max-model-bytes". Errors wrap
// regfile.ErrNotRegular, regfile.ErrTooLarge or the filesystem's error
// (fs.ErrNotExist for a missing file). The slice is the caller's.
func ReadModel(path string, max int64, setting string) ([]byte, error) {
	if max == 0 {
		max = DefaultMaxModelBytes
	}
	return regfile.Read(path, regfile.Limit{Max: max, Remedy: fmt.Sprintf("raise %s to allow a larger model", setting)})
}
