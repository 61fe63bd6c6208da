//go:build linux

package configs

import (
	"errors"

	"golang.org/x/sys/unix"
)

// errNoExchange means renameat2 and its flags are not available here.
var errNoExchange = errors.New("renameat2 flags not supported")

// exchange atomically swaps the names a and b (both must exist).
func exchange(a, b string) error {
	return renameat2(a, b, unix.RENAME_EXCHANGE)
}

// renameat2NoReplace renames old to new, failing if new exists.
func renameat2NoReplace(old, new string) error {
	return renameat2(old, new, unix.RENAME_NOREPLACE)
}

// noRenameat2, set by tests, takes the portable path.
var noRenameat2 bool

func renameat2(old, new string, flags uint) error {
	if noRenameat2 {
		return errNoExchange
	}
	for {
		err := unix.Renameat2(unix.AT_FDCWD, old, unix.AT_FDCWD, new, flags)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL), errors.Is(err, unix.EOPNOTSUPP):
			return errNoExchange
		}
		return &linkErr{op: "renameat2", old: old, new: new, err: err}
	}
}

type linkErr struct {
	op, old, new string
	err          error
}

func (e *linkErr) Error() string { return e.op + " " + e.old + " " + e.new + ": " + e.err.Error() }
func (e *linkErr) Unwrap() error { return e.err }
