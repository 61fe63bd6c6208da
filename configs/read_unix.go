//go:build unix

package configs

import (
	"io/fs"
	"syscall"
)

// readFileScratch is os.ReadFile for the small files of a configuration
// folder with fewer system calls (open, read until end of file, close: no
// fstat, no poller registration). It reads into *buf, grown as needed and
// kept for the next call, and returns an exact-size copy.
func readFileScratch(name string, buf *[]byte) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	if len(*buf) == 0 {
		*buf = make([]byte, 64<<10)
	}
	b, n := *buf, 0
	for {
		if n == len(b) {
			nb := make([]byte, 2*len(b))
			copy(nb, b)
			b, *buf = nb, nb
		}
		m, err := syscall.Read(fd, b[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if m == 0 {
			break
		}
		n += m
	}
	out := make([]byte, n)
	copy(out, b)
	return out, nil
}
