package providers

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// fasthttp v1.77 reports a chunked body that the upstream cut at a chunk
// boundary with the same io.EOF as a body that ended properly. To tell a
// dropped stream from a finished one, NewClient's connections remember
// whether the peer closed them: a proper end never needs to read past the
// final chunk, so a peer EOF seen by the time the body "ended" means it was
// cut.

// eofConn is a connection that records a read of the peer's EOF.
type eofConn struct {
	net.Conn
	key     string
	peerEOF atomic.Bool
}

// liveConns maps connKey to the open *eofConn.
var liveConns sync.Map

func (c *eofConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		c.peerEOF.Store(true)
	}
	return n, err
}

func (c *eofConn) Close() error {
	liveConns.CompareAndDelete(c.key, c)
	return c.Conn.Close()
}

// dialer opens a client's connections: resolution, the egress policy and
// the TCP connect (see client.go); dialTracked adds the tracking.
type dialer func(addr string, timeout time.Duration) (net.Conn, error)

func (dial dialer) dialTracked(addr string, timeout time.Duration) (net.Conn, error) {
	conn, err := dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	c := &eofConn{Conn: conn, key: connKey(conn.LocalAddr(), conn.RemoteAddr())}
	liveConns.Store(c.key, c)
	return c, nil
}

func connKey(local, remote net.Addr) string {
	if local == nil || remote == nil {
		return ""
	}
	return local.String() + ">" + remote.String()
}

// trackedConn is the connection resp was read from, or nil when it was not
// dialed by NewClient's client.
func trackedConn(resp *fasthttp.Response) *eofConn {
	if c, ok := liveConns.Load(connKey(resp.LocalAddr(), resp.RemoteAddr())); ok {
		return c.(*eofConn)
	}
	return nil
}
