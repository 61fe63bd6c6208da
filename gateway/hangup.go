package gateway

import (
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/gateway/providers"
)

// A client that hangs up during a unary call must cancel it: the upstream
// call (and the team's parallel slot) would otherwise stay until the
// deployment's timeout. fasthttp runs the handler on the connection's
// goroutine and reads nothing while it runs, so it cannot tell; net/http
// does it with a background read, which would consume pipelined bytes.
//
// hangup instead watches the socket without reading it: a goroutine waits
// in the runtime's netpoller (syscall.RawConn.Read, which never reads) for
// the connection to become readable and then asks the kernel, with a
// non-blocking poll(2) for POLLRDHUP, whether the peer shut its side. Data
// the client sent (a pipelined request) stays in the socket for fasthttp;
// only a hang-up aborts the call (providers.Abort closes the upstream
// connection). When the call returns, a read deadline in the past wakes
// the watch, which ends; the connection then serves its next request as
// before. Cost per unary call: a goroutine, one poll(2) and three read
// deadline updates (timer operations, no system call).

// hangup is one call's watch; pooled.
type hangup struct {
	conn  net.Conn
	rc    syscall.RawConn
	abort *providers.Abort
	check func(fd uintptr) bool // h.poll, bound once
	runFn func()                // h.run, bound once
	done  chan struct{}
}

var hangups = sync.Pool{New: func() any {
	h := &hangup{done: make(chan struct{}, 1)}
	h.check, h.runFn = h.poll, h.run
	return h
}}

// aLongTimeAgo is a read deadline that has passed: it wakes the watch.
var aLongTimeAgo = time.Unix(1, 0)

// watchHangup starts watching ctx's connection; when the client hangs up
// it aborts the call that was given the watch's Abort. It returns nil when
// the connection cannot be watched (not a socket, as in-memory test
// listeners, or a platform without POLLRDHUP). The caller must stop a
// non-nil watch before the handler returns.
func watchHangup(ctx *fasthttp.RequestCtx) *hangup {
	if !canWatchHangup {
		return nil
	}
	conn := ctx.Conn()
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	h := hangups.Get().(*hangup)
	// The Abort is the call's, not pooled: a call outlives its handler
	// only if its worker never ran it, and then it must not abort another.
	h.conn, h.rc, h.abort = conn, rc, &providers.Abort{}
	// fasthttp's read deadline (ReadTimeout from the request's start)
	// would end the watch of a long call; the call has its own deadline.
	_ = conn.SetReadDeadline(time.Time{})
	go h.runFn()
	return h
}

func (h *hangup) run() {
	_ = h.rc.Read(h.check) // ends on a hang-up (check true) or stop's deadline
	h.done <- struct{}{}
}

// poll is RawConn.Read's callback: true (the watch is over) when the
// client hung up, after aborting the call; false to wait for the next
// readiness of the socket.
func (h *hangup) poll(fd uintptr) bool {
	if !peerClosed(fd) {
		return false
	}
	h.abort.Abort()
	return true
}

// stop ends the watch and returns once its goroutine is done, leaving the
// connection as fasthttp expects it (it sets its own read deadline before
// it reads the next request). Safe on a nil watch.
func (h *hangup) stop() {
	if h == nil {
		return
	}
	_ = h.conn.SetReadDeadline(aLongTimeAgo)
	<-h.done
	_ = h.conn.SetReadDeadline(time.Time{})
	h.conn, h.rc, h.abort = nil, nil, nil
	hangups.Put(h)
}
