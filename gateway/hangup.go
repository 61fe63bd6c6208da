package gateway

import (
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/providers"
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
// before.
//
// The watch starts only once a call has lasted hangupDelay: a call that
// ends sooner (most calls to a fast upstream, every cached or refused
// one) costs one timer start and stop, no goroutine and no system call. A
// watched call costs a goroutine, one poll(2) and three read deadline
// updates, next to a call that lasts at least hangupDelay. A hang-up is
// noticed at most hangupDelay after the call started, and at once after.

// hangupDelay is how long a call runs before its connection is watched.
const hangupDelay = 20 * time.Millisecond

// Watch states (hangup.state).
const (
	watchPending  = iota // the timer has not started the watch
	watchRunning         // the watch goroutine waits in the netpoller
	watchStopping        // stop came first: the watch must not start
)

// hangup is one call's watch; pooled.
type hangup struct {
	conn  net.Conn
	rc    syscall.RawConn
	abort *providers.Abort
	check func(fd uintptr) bool // h.poll, bound once
	timer *time.Timer           // runs h.run after hangupDelay, reused
	done  chan struct{}

	mu    sync.Mutex
	state int
}

var hangups = sync.Pool{New: func() any {
	h := &hangup{done: make(chan struct{}, 1)}
	h.check = h.poll
	return h
}}

// aLongTimeAgo is a read deadline that has passed: it wakes the watch.
var aLongTimeAgo = time.Unix(1, 0)

// watchHangup arranges for ctx's connection to be watched once the call
// has lasted hangupDelay; when the client hangs up it aborts the call
// that was given the watch's Abort. It returns nil when the connection
// cannot be watched (not a socket, as in-memory test listeners, or a
// platform without POLLRDHUP). The caller must stop a non-nil watch
// before the handler returns.
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
	h.conn, h.rc, h.abort, h.state = conn, rc, &providers.Abort{}, watchPending
	if h.timer == nil {
		h.timer = time.AfterFunc(hangupDelay, h.run)
	} else {
		h.timer.Reset(hangupDelay)
	}
	return h
}

// run is the watch, on the timer's goroutine.
func (h *hangup) run() {
	h.mu.Lock()
	if h.state != watchPending { // stop came first
		h.mu.Unlock()
		h.done <- struct{}{}
		return
	}
	h.state = watchRunning
	// fasthttp's read deadline (ReadTimeout from the request's start)
	// would end the watch of a long call; the call has its own deadline.
	_ = h.conn.SetReadDeadline(time.Time{})
	h.mu.Unlock()
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

// stop ends the watch (or keeps it from starting) and returns once its
// goroutine is done, leaving the connection as fasthttp expects it (it
// sets its own read deadline before it reads the next request). Safe on a
// nil watch.
func (h *hangup) stop() {
	if h == nil {
		return
	}
	h.mu.Lock()
	state := h.state
	h.state = watchStopping
	h.mu.Unlock()
	switch {
	case state == watchPending && h.timer.Stop():
		// The watch never started and never will.
	case state == watchPending:
		<-h.done // the timer fired: run sees watchStopping and returns
	default:
		_ = h.conn.SetReadDeadline(aLongTimeAgo)
		<-h.done
		_ = h.conn.SetReadDeadline(time.Time{})
	}
	h.conn, h.rc, h.abort = nil, nil, nil
	hangups.Put(h)
}
