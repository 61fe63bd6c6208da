//go:build unix

package configs

import (
	"io/fs"
	"syscall"
)

// readFileScratch is os.ReadFile for the small files of a configuration
// folder with fewer system calls (open, read until end of file, close: no
// fstat, no poller registration). It reads into *buf, grown as needed and
// kept for the next call, and returns an exact-size copy. A file bigger
// than limit is not read past limit+1 bytes (the buffer never grows
// beyond that): it returns the file's size as oversize and no data.
func readFileScratch(name string, buf *[]byte, limit int64) ([]byte, int64, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, 0, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	if len(*buf) == 0 {
		*buf = make([]byte, min(64<<10, limit+1))
	}
	b, n := *buf, 0
	for {
		if n == len(b) {
			if int64(n) > limit {
				return nil, oversizeOf(fd, int64(n)), nil
			}
			nb := make([]byte, min(2*int64(len(b)), limit+1))
			copy(nb, b)
			b, *buf = nb, nb
		}
		m, err := syscall.Read(fd, b[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, 0, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if m == 0 {
			break
		}
		n += m
	}
	if int64(n) > limit {
		return nil, oversizeOf(fd, int64(n)), nil
	}
	out := make([]byte, n)
	copy(out, b)
	return out, 0, nil
}

// oversizeOf is the size of the open file fd, at least read.
func oversizeOf(fd int, read int64) int64 {
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) == nil && st.Size > read {
		return st.Size
	}
	return read
}
