package confstore

import (
	"crypto/sha256"
	"fmt"
	"os"

	"github.com/llmgateway/gateway/configs"
)

// Files are the teams and models files the live configuration was built
// from, for Mutate's callback. The store keeps their paths and sums, not
// their bytes: Read takes a file from disk and checks it is the one that
// was loaded.
type Files struct {
	in       configs.Input
	verified map[string]bool // read and found as loaded
	limit    int64           // general_settings.max_config_file_bytes
}

// Has reports whether path is one of the live teams or models files.
func (f *Files) Has(path string) bool {
	_, ok := f.sum(path)
	return ok
}

func (f *Files) sum(path string) ([sha256.Size]byte, bool) {
	for _, fs := range [][]configs.File{f.in.Teams, f.in.Models} {
		for _, file := range fs {
			if file.Path == path {
				return file.Sum, true
			}
		}
	}
	return [sha256.Size]byte{}, false
}

// Read returns the content of the live file at path. A file that changed
// on disk since it was loaded gives a *ChangedError: an edit made from the
// live content would undo the change on disk.
func (f *Files) Read(path string) ([]byte, error) {
	want, ok := f.sum(path)
	if !ok {
		return nil, fmt.Errorf("reading %s: not a file of the live configuration", path)
	}
	// A live file is at most the size limit: one bigger is not the one
	// that was loaded, and is not read whole to find that out.
	file, found, err := configs.ReadFileLimit(path, f.limit)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	data := file.Data
	if !found || file.Oversize > 0 || sha256.Sum256(data) != want {
		return nil, &ChangedError{Path: path}
	}
	if f.verified == nil {
		f.verified = map[string]bool{}
	}
	f.verified[path] = true
	return data, nil
}

// unchangedOnDisk checks that the file at path still holds what was
// loaded: a live file with the same content (not read again when Read
// already checked it), or no file when the live configuration has none
// there.
func (f *Files) unchangedOnDisk(path string) error {
	if !f.Has(path) {
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
			return &ChangedError{Path: path, NotLive: true}
		}
		return nil
	}
	if f.verified[path] {
		return nil
	}
	_, err := f.Read(path)
	return err
}

// ChangedError is a file an API write would replace that changed on disk
// and was not reloaded yet: a live file whose content differs, or
// (NotLive) a file written where the live configuration has none.
type ChangedError struct {
	Path    string
	NotLive bool
}

func (e *ChangedError) Error() string {
	what := "changed on disk since the gateway loaded it and the change is not live yet"
	if e.NotLive {
		what = "exists on disk but is not part of the live configuration yet"
	}
	return fmt.Sprintf("%s %s; nothing was written. Retry once it is live (the file watcher reloads within a second; POST /config/reload forces it)", e.Path, what)
}
