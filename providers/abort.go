package providers

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Abort cancels a unary upstream call in flight from another goroutine:
// the gateway's watch on the client connection calls Abort when the client
// hangs up, and the call's upstream connection is closed at once, so the
// upstream sees the cancellation and the call returns (with a 499 error)
// instead of waiting for an answer nobody will read. The zero value is
// ready; an Abort serves one call.
//
// fasthttp's client has no per-request cancellation; NewClient's transport
// (abortTransport) registers the connection a call uses with the call's
// Abort for the time of the exchange.
type Abort struct {
	mu      sync.Mutex
	conn    net.Conn // the connection of the exchange in flight
	aborted bool
}

// errAborted is the error of a call whose client went away.
var errAborted = errors.New("the call was aborted: the client went away")

// Abort closes the call's upstream connection, if it has one, and makes
// every later step of the call fail. Safe to call more than once and
// concurrently with the call.
func (a *Abort) Abort() {
	a.mu.Lock()
	a.aborted = true
	c := a.conn
	a.conn = nil
	a.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

// Aborted reports whether Abort was called.
func (a *Abort) Aborted() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.aborted
}

// attach registers c as the connection of the exchange in flight; false
// if the call was aborted already.
func (a *Abort) attach(c net.Conn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.aborted {
		return false
	}
	a.conn = c
	return true
}

// detach ends the exchange; false if it was aborted (its connection
// closed) meanwhile.
func (a *Abort) detach() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conn = nil
	return !a.aborted
}

// abortKey is the fasthttp.Request user value holding a call's *Abort.
const abortKey = "llmgateway.abort"

// abortTransport is NewClient's fasthttp transport. A request without an
// *Abort, or with a streamed response (a Stream's Close aborts it), goes
// through fasthttp's DefaultTransport. A unary request with one runs the
// same exchange as DefaultTransport's buffered path (acquire a pooled
// connection, write, read the whole response, return the connection),
// with the connection registered with the Abort while it is in use.
//
// It relies on the Client's DoDeadline setting the request's timeout; it
// does not implement HostClient's ReadTimeout, WriteTimeout or
// MaxConnDuration, which NewClient does not set.
type abortTransport struct{}

func (abortTransport) RoundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (retry bool, err error) {
	a, _ := req.UserValue(abortKey).(*Abort)
	if a == nil || resp.StreamBody {
		return fasthttp.DefaultTransport.RoundTrip(hc, req, resp)
	}
	if a.Aborted() {
		return false, errAborted
	}
	timeout := req.GetTimeOut()
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	cc, err := hc.AcquireConn(timeout, req.ConnectionClose())
	if err != nil {
		return false, err
	}
	conn := cc.Conn()
	if !a.attach(conn) {
		hc.CloseConn(cc)
		return false, errAborted
	}
	resp.ParseNetConn(conn)

	// Deadlines are always set (a zero one clears an earlier exchange's):
	// a pooled connection may carry a deadline of DefaultTransport's.
	if err = conn.SetWriteDeadline(deadline); err == nil {
		bw := hc.AcquireWriter(conn)
		err = req.Write(bw)
		if err == nil {
			err = bw.Flush()
		}
		hc.ReleaseWriter(bw)
	}
	if err != nil {
		hc.CloseConn(cc)
		if !a.detach() {
			return false, errAborted
		}
		if x, ok := err.(interface{ Timeout() bool }); ok && x.Timeout() {
			err = fasthttp.ErrTimeout
		}
		return true, err
	}
	if err = conn.SetReadDeadline(deadline); err == nil {
		br := hc.AcquireReader(conn)
		err = resp.ReadLimitBody(br, hc.MaxResponseBodySize)
		hc.ReleaseReader(br)
	}
	if !a.detach() {
		hc.CloseConn(cc)
		return false, errAborted
	}
	if err != nil {
		hc.CloseConn(cc)
		return !errors.Is(err, fasthttp.ErrBodyTooLarge), err
	}
	if req.ConnectionClose() || resp.ConnectionClose() {
		hc.CloseConn(cc)
	} else {
		hc.ReleaseConn(cc)
	}
	return false, nil
}
