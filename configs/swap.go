package configs

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Compare-and-swap writes of configuration files.
//
// The management API edits a file only if it still holds what the live
// configuration was built from: a hand edit or a `git pull` that lands
// at any instant is never overwritten. The check and the replacement are
// one atomic step where the kernel allows it:
//
//   - replace: the new content is written to a temp file next to the
//     target and fsynced, then renameat2(RENAME_EXCHANGE) swaps the two
//     names. The displaced file (now under the temp name) is checked
//     against the expected sha256; on a mismatch the names are swapped
//     back, so whatever was on disk is on disk again, and ErrChanged is
//     returned. A process that writes with write-temp-and-rename (editors,
//     git) either lands before the exchange (and is displaced, detected
//     and put back) or after it (and simply replaces the API's write):
//     nothing is lost.
//   - create: renameat2(RENAME_NOREPLACE) fails when a file appeared.
//   - remove: the file is renamed aside to a dot name (ignored by the
//     loader), checked, and renamed back on a mismatch.
//
// Where renameat2 is not available (not Linux, or a file system without
// the flags) create uses link(2), which never replaces, and replace
// takes a hard link of the target, checks it and renames the temp file
// over the target: an edit landing between that check and the rename
// (microseconds) is the one case that can still be overwritten.
//
// Each operation keeps what it displaced (under a dot name) until Commit
// or Undo, so a multi-file write that fails half-way restores the files
// it already changed. A crash leaves at most such dot files behind; the
// loader never reads them and SweepLitter removes them.

// ErrChanged is returned (wrapped, with the path) when the file on disk
// is not the one expected: it changed, appeared or disappeared.
var ErrChanged = errors.New("the file on disk is not the one the live configuration was built from")

// ErrExists is ErrChanged for a file the write would create that exists.
var ErrExists = fmt.Errorf("%w: a file exists where a new one would be created", ErrChanged)

// litterMark is in the name of every temp and displaced file of a swap.
const litterMark = ".gw-"

// Swap is one file created, replaced or removed by CreateFile,
// ReplaceFile or RemoveFile. It holds what it displaced until Commit
// drops it or Undo puts it back.
type Swap struct {
	path  string
	aside string // the displaced file, "" when none (create)
	ours  [sha256.Size]byte
	kind  swapKind
}

type swapKind uint8

const (
	swapNone swapKind = iota // nothing was done (a removal of a missing file)
	swapCreate
	swapReplace
	swapRemove
)

// Path is the file the swap changed.
func (s *Swap) Path() string { return s.path }

// CreateFile creates path with data (and missing parent directories)
// durably; a file already there gives ErrExists and is left alone.
func CreateFile(path string, data []byte, perm os.FileMode) (*Swap, error) {
	dir := filepath.Dir(path)
	if err := mkdirAllDurable(dir); err != nil {
		return nil, err
	}
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return nil, err
	}
	if err := renameNoReplace(tmp, path); err != nil {
		os.Remove(tmp)
		if fi, serr := os.Stat(path); errors.Is(err, fs.ErrExist) && serr == nil && fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: %w", path, ErrExists)
		}
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return &Swap{path: path, ours: sha256.Sum256(data), kind: swapCreate}, nil
}

// ReplaceFile makes data the content of path durably, only if path still
// holds content whose sha256 is want; otherwise it returns ErrChanged and
// leaves path as it found it.
func ReplaceFile(path string, data []byte, perm os.FileMode, want [sha256.Size]byte) (*Swap, error) {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return nil, err
	}
	ours := sha256.Sum256(data)
	// A cheap check first: a file that changed since the caller read it
	// (writing and syncing the temp file takes milliseconds) is refused
	// before readers could ever see our content at path.
	if got, err := fileSum(path); err == nil && got != want {
		os.Remove(tmp)
		return nil, fmt.Errorf("%s: %w", path, ErrChanged)
	}
	err = exchange(tmp, path)
	if errors.Is(err, errNoExchange) {
		return replaceFallback(path, tmp, ours, want)
	}
	if err != nil {
		os.Remove(tmp)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s was removed: %w", path, ErrChanged)
		}
		return nil, fmt.Errorf("replacing %s: %w", path, err)
	}
	// tmp now holds the displaced file.
	got, err := fileSum(tmp)
	if err != nil || got != want {
		putBack(path, tmp, ours)
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", path, err)
		}
		return nil, fmt.Errorf("%s: %w", path, ErrChanged)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return &Swap{path: path, aside: tmp, ours: ours, kind: swapReplace}, nil
}

// putBack undoes an exchange of path and aside (aside holds what was at
// path, path holds ours): it exchanges them again, and if what comes back
// to aside is not ours (a later edit replaced ours in the meantime), it
// exchanges once more so the latest edit stays at path. aside is removed.
func putBack(path, aside string, ours [sha256.Size]byte) {
	if err := exchange(aside, path); err == nil {
		if got, err := fileSum(aside); err == nil && got != ours {
			_ = exchange(aside, path)
		}
	}
	os.Remove(aside)
	_ = syncDir(filepath.Dir(path))
}

// replaceFallback is ReplaceFile without RENAME_EXCHANGE: a hard link
// keeps the current file, which is checked before tmp is renamed over
// path. An edit landing between the check and the rename is lost.
func replaceFallback(path, tmp string, ours, want [sha256.Size]byte) (*Swap, error) {
	aside := litterName(path)
	if err := os.Link(path, aside); err != nil {
		os.Remove(tmp)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s was removed: %w", path, ErrChanged)
		}
		return nil, fmt.Errorf("replacing %s: %w", path, err)
	}
	if got, err := fileSum(aside); err != nil || got != want {
		os.Remove(aside)
		os.Remove(tmp)
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", path, err)
		}
		return nil, fmt.Errorf("%s: %w", path, ErrChanged)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(aside)
		os.Remove(tmp)
		return nil, fmt.Errorf("renaming into %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return &Swap{path: path, aside: aside, ours: ours, kind: swapReplace}, nil
}

// RemoveFile removes path durably, only if it holds content whose sha256
// is want; otherwise it returns ErrChanged and leaves it (a file that is
// already gone is not an error: nothing can be lost).
func RemoveFile(path string, want [sha256.Size]byte) (*Swap, error) {
	aside := litterName(path)
	if err := os.Rename(path, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &Swap{path: path, kind: swapNone}, nil
		}
		return nil, fmt.Errorf("removing %s: %w", path, err)
	}
	if got, err := fileSum(aside); err != nil || got != want {
		if rerr := renameNoReplace(aside, path); rerr != nil {
			// A newer file took the place: it stays, the older edit goes.
			os.Remove(aside)
		}
		_ = syncDir(filepath.Dir(path))
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", path, err)
		}
		return nil, fmt.Errorf("%s: %w", path, ErrChanged)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return &Swap{path: path, aside: aside, kind: swapRemove}, nil
}

// Commit drops what the swap displaced. It is safe to call on nil.
func (s *Swap) Commit() {
	if s != nil && s.aside != "" {
		os.Remove(s.aside)
		s.aside = ""
	}
}

// Undo restores what the swap displaced, if the file is still the one the
// swap left (a later edit on disk is kept).
func (s *Swap) Undo() error {
	if s == nil {
		return nil
	}
	dir := filepath.Dir(s.path)
	switch s.kind {
	case swapCreate:
		aside := litterName(s.path)
		if err := os.Rename(s.path, aside); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("undoing the creation of %s: %w", s.path, err)
		}
		if got, err := fileSum(aside); err != nil || got != s.ours {
			if rerr := renameNoReplace(aside, s.path); rerr != nil {
				os.Remove(aside)
			}
		} else {
			os.Remove(aside)
		}
	case swapReplace:
		if err := exchange(s.aside, s.path); err != nil {
			if !errors.Is(err, errNoExchange) {
				return fmt.Errorf("undoing the write of %s: %w", s.path, err)
			}
			// Fallback: put the old content back unless the file changed.
			if got, err := fileSum(s.path); err != nil || got != s.ours {
				break
			}
			if err := os.Rename(s.aside, s.path); err != nil {
				return fmt.Errorf("undoing the write of %s: %w", s.path, err)
			}
			s.aside = ""
			break
		}
		if got, err := fileSum(s.aside); err == nil && got != s.ours {
			_ = exchange(s.aside, s.path) // a later edit: it stays
		}
	case swapRemove:
		if err := renameNoReplace(s.aside, s.path); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("undoing the removal of %s: %w", s.path, err)
		}
	}
	if s.aside != "" {
		os.Remove(s.aside)
		s.aside = ""
	}
	s.kind = swapNone
	return syncDir(dir)
}

// writeTemp writes data to a new fsynced dot file next to path.
func writeTemp(path string, data []byte, perm os.FileMode) (string, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+litterMark+"tmp-*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	name := tmp.Name()
	fail := func(what string, err error) (string, error) {
		tmp.Close()
		os.Remove(name)
		return "", fmt.Errorf("%s %s: %w", what, path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail("writing", err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fail("writing", err)
	}
	if err := tmp.Sync(); err != nil {
		return fail("syncing", err)
	}
	if err := tmp.Close(); err != nil {
		return fail("writing", err)
	}
	return name, nil
}

// litterName is a fresh dot name next to path for a displaced file.
func litterName(path string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+litterMark+"old-"+hex.EncodeToString(b[:]))
}

// IsLitter reports whether a file name is a temp or displaced file of a
// swap (a crash can leave one behind).
func IsLitter(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, litterMark)
}

// SweepLitter removes the temp and displaced files a crash left in the
// directories under dirs. Only names IsLitter matches are removed.
func SweepLitter(dirs ...string) {
	for _, d := range dirs {
		if d == "" {
			continue
		}
		_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if e.IsDir() && p != d && strings.HasPrefix(e.Name(), ".") {
				return filepath.SkipDir // .git and the like
			}
			if e.Type().IsRegular() && IsLitter(e.Name()) {
				os.Remove(p)
			}
			return nil
		})
	}
}

// fileSum is the sha256 of the file at path, streamed (never held whole).
func fileSum(path string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// renameNoReplace renames old to new unless new exists (fs.ErrExist).
func renameNoReplace(old, new string) error {
	err := renameat2NoReplace(old, new)
	if !errors.Is(err, errNoExchange) {
		return err
	}
	// link(2) never replaces.
	if err := os.Link(old, new); err != nil {
		return err
	}
	return os.Remove(old)
}

// mkdirAllDurable creates dir and its missing parents, fsyncing each
// parent of a directory it created.
func mkdirAllDurable(dir string) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAllDurable(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return syncDir(parent)
}

// WithoutModelAliases returns a teams.d file's data with its
// model_aliases removed (comments and the rest kept), and whether it had
// any. A multi-file write uses it to break the cycle between a team and
// its models (a model names its team, the team's aliases name its
// models): the aliases go first, then the models, then the team.
func WithoutModelAliases(data []byte) ([]byte, bool, error) {
	doc, root, err := parseDoc(data)
	if err != nil || root == nil {
		return nil, false, err
	}
	i := mapIndex(root, "model_aliases")
	if i < 0 {
		return nil, false, nil
	}
	if v := deref(root.Content[i+1]); v.Kind == yaml.MappingNode && len(v.Content) == 0 || isNull(v) {
		return nil, false, nil
	}
	root.Content = append(root.Content[:i:i], root.Content[i+2:]...)
	out, err := encodeNode(doc)
	return out, err == nil, err
}
