package gateway

import "golang.org/x/sys/unix"

const canWatchHangup = true

// peerClosed reports whether the peer of socket fd shut down its sending
// side or the connection failed, without reading from it: poll(2) with a
// zero timeout, which sees POLLRDHUP even behind unread data.
func peerClosed(fd uintptr) bool {
	fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLRDHUP}}
	for {
		n, err := unix.Poll(fds[:], 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return false
		}
		return fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0
	}
}
