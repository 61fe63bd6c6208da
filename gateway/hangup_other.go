//go:build !linux

package gateway

// Without POLLRDHUP a hang-up cannot be told from pipelined bytes without
// reading them: unary calls are not watched (they end at their deadline).
const canWatchHangup = false

func peerClosed(uintptr) bool { return false }
