// Package regfile reads the files a request, a publish or the registry
// hands switchyard (manifest.json, policy.yaml, rollout.json, schemas,
// evaluation sets, models) with a size cap, so that no input can make the
// process allocate more than its owner allows.
//
// A file is refused before it is opened when it is not a regular file (a
// FIFO, a device such as /dev/zero, a directory, a socket), since such a
// file can be endless or block its reader forever, and when its size is
// over the limit. The mode and size are checked again on the opened file,
// and the cap is enforced while reading too, so that a file swapped or
// grown between the check and the read is still refused after at most
// limit+1 bytes.
//
// Errors are *Error values that name the file, the limit and what to
// change; errors.Is matches them with ErrNotRegular and ErrTooLarge, and
// a missing file keeps matching fs.ErrNotExist.
//
//	data, err := regfile.Read(path, regfile.Limit{Max: 1 << 20, Remedy: "a policy.yaml is a few KiB"})
//
// The package holds no state; its functions are safe for concurrent use.
package regfile
