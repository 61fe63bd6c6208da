package providers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
)

// teamMaxConnDuration bounds how long a team connection is reused, so a
// tightened policy or a changed DNS answer reaches every team connection
// (idle ones are closed at once by SetTeamPolicy).
const teamMaxConnDuration = 5 * time.Minute

// Client is the HTTP client all HTTP providers share. It is two fasthttp
// clients with separate connection pools, chosen per deployment by For:
//
//   - team deployments (model_info.team_id set: the team supplied or may
//     change the api_base) go through a dialer that applies the egress
//     policy in force (SetTeamPolicy) to every address it connects to;
//   - the operator's global deployments go through the same dialer without
//     a policy.
//
// Separate pools matter: a connection dialled for a global deployment is
// never handed to a team deployment of the same host, and the policy is
// checked on every new team connection while keep-alive reuse costs
// nothing. Both dialers resolve names themselves and connect over IPv4 or
// IPv6.
type Client struct {
	operator, team         *fasthttp.Client
	operatorHTTP, teamHTTP *http.Client // HTTPFor (httpclient.go)
	policy                 atomic.Pointer[egress.Policy]
}

// ClientOptions replace parts of the dial, for tests and benchmarks.
type ClientOptions struct {
	// Lookup resolves a host name; nil uses the system resolver.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// Connect opens a TCP connection to a checked "ip:port"; nil dials.
	Connect func(ctx context.Context, address string) (net.Conn, error)
	// Log receives a warning for every refused team connection (with the
	// address, which clients never see); nil logs nothing.
	Log *slog.Logger
	// RootCAs, when set, replaces the system's roots for every TLS
	// connection (tests: fake clouds over TLS with a test CA).
	RootCAs *x509.CertPool
}

// NewClient returns a Client whose team policy is the default (no allow or
// deny entries, the host's own addresses) until SetTeamPolicy.
func NewClient() *Client { return NewClientWith(ClientOptions{}) }

// NewClientWith is NewClient with options.
func NewClientWith(o ClientOptions) *Client {
	c := &Client{}
	c.policy.Store(egress.New(nil, nil, egress.HostAddrs()))
	operator := &egress.Dialer{Lookup: o.Lookup, Connect: o.Connect}
	team := &egress.Dialer{Policy: c.policy.Load, Lookup: o.Lookup, Connect: o.Connect}
	if log := o.Log; log != nil {
		team.OnDeny = func(d *egress.Denied) {
			log.Warn("team upstream connection refused by the api_base policy", "err", d.Error())
		}
	}
	var tlsConfig *tls.Config
	if o.RootCAs != nil {
		tlsConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
	}
	c.operator = newFastClient(viaEgress(operator))
	c.team = newFastClient(c.underPolicy(viaEgress(team)))
	c.team.MaxConnDuration = teamMaxConnDuration
	c.operator.TLSConfig, c.team.TLSConfig = tlsConfig, tlsConfig
	c.operatorHTTP = newHTTPClient(viaEgress(operator), tlsConfig)
	c.teamHTTP = newHTTPClient(c.underPolicy(viaEgress(team)), tlsConfig)
	return c
}

// viaEgress adapts an egress dialer, reporting a connect timeout the way
// fasthttp's own dialer does.
func viaEgress(d *egress.Dialer) dialer {
	return func(addr string, timeout time.Duration) (net.Conn, error) {
		conn, err := d.DialTimeout(addr, timeout)
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			return nil, fasthttp.ErrDialTimeout
		}
		return conn, err
	}
}

// underPolicy ties each team connection to the policy it was dialled
// under: once another policy is in force, the connection refuses to send
// the next request (errStalePolicy, which the client retries on a new
// connection, checked under the new policy). SetTeamPolicy closes the idle
// ones at once; this catches those that were busy at that moment.
func (c *Client) underPolicy(dial dialer) dialer {
	return func(addr string, timeout time.Duration) (net.Conn, error) {
		p := c.policy.Load()
		conn, err := dial(addr, timeout)
		if err != nil {
			return nil, err
		}
		return &policyConn{Conn: conn, stale: func() bool {
			cur := c.policy.Load()
			return cur != p && !cur.Equal(p)
		}}, nil
	}
}

// errStalePolicy refuses a request on a connection dialled under an
// egress policy no longer in force; nothing was sent.
var errStalePolicy = errors.New("the connection was checked under an earlier api_base policy")

// policyConn is a team connection that stops sending once its policy is
// replaced.
type policyConn struct {
	net.Conn
	stale func() bool
}

func (c *policyConn) Write(p []byte) (int, error) {
	if c.stale() {
		_ = c.Conn.Close()
		return 0, errStalePolicy
	}
	return c.Conn.Write(p)
}

// SetTeamPolicy puts p in force for new team connections; when it differs
// from the policy before, idle team connections are closed so that none
// outlives the policy it was checked under (busy ones refuse their next
// request: underPolicy).
func (c *Client) SetTeamPolicy(p *egress.Policy) {
	if old := c.policy.Swap(p); !old.Equal(p) {
		c.team.CloseIdleConnections()
		c.teamHTTP.CloseIdleConnections()
	}
}

// TeamPolicy is the policy in force for team connections.
func (c *Client) TeamPolicy() *egress.Policy { return c.policy.Load() }

// TeamSupplied reports whether d's endpoint is restricted by the egress
// policy: every team deployment is (its team may set or change api_base);
// the operator's global deployments are not.
func TeamSupplied(d *configs.Deployment) bool { return d != nil && d.ModelInfo.TeamID != "" }

// For returns the fasthttp client that carries calls to d.
func (c *Client) For(d *configs.Deployment) *fasthttp.Client {
	if TeamSupplied(d) {
		return c.team
	}
	return c.operator
}
