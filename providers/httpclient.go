package providers

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// httpDialTimeout bounds a net/http connection's dial when the request's
// context has no earlier deadline.
const httpDialTimeout = 30 * time.Second

// newHTTPClient is a net/http client over dial: for the cloud libraries
// (token endpoints, STS, the Azure identity library) that take an
// *http.Client. It never follows a redirect to another host silently:
// redirects are not followed at all, as for the fasthttp clients.
func newHTTPClient(dial dialer, tlsConfig *tls.Config) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			timeout := httpDialTimeout
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
				timeout = time.Until(dl)
			}
			return dial(addr, timeout)
		},
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// HTTPFor returns the net/http client for calls a provider makes on d's
// behalf besides its upstream calls (a token endpoint, STS): the same
// dialer as For, so a team deployment's every connection passes the api_base
// policy in force (a service account's token_uri, an Entra authority
// host, an STS endpoint), and the operator's go out without one. Use it
// for every library that takes an *http.Client or a transport.
func (c *Client) HTTPFor(d *configs.Deployment) *http.Client {
	if TeamSupplied(d) {
		return c.teamHTTP
	}
	return c.operatorHTTP
}
