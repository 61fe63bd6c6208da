package providers

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/metrics"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// DefaultTimeout bounds a call whose Deadline is zero.
const DefaultTimeout = 600 * time.Second

// maxResponseBody caps a unary upstream answer.
const maxResponseBody = 64 << 20

// newFastClient returns a fasthttp client of the shared Client (see
// client.go) over dial. It keeps connections alive, never rewrites paths,
// never follows redirects (Do does not) and never retries a request the
// upstream may have seen (a completion is not idempotent), except on a
// pooled connection the upstream closed before answering.
func newFastClient(dial dialer) *fasthttp.Client {
	return &fasthttp.Client{
		Name:                          "llmgateway",
		MaxConnsPerHost:               1024,
		MaxIdleConnDuration:           30 * time.Second,
		MaxConnWaitTimeout:            3 * time.Second,
		ReadBufferSize:                64 << 10, // large enough for big response headers
		WriteBufferSize:               16 << 10,
		MaxResponseBodySize:           maxResponseBody,
		DisablePathNormalizing:        true,
		DisableHeaderNamesNormalizing: false,
		DialTimeout:                   dial.dialTracked, // both IP families: the dialer resolves
		Transport:                     abortTransport{}, // a unary call's client may hang up: see Abort
		MaxIdemponentCallAttempts:     2,
		RetryIfErr: func(req *fasthttp.Request, _ int, err error) (bool, bool) {
			if a, _ := req.UserValue(abortKey).(*Abort); a != nil && a.Aborted() {
				return false, false
			}
			// A stale keep-alive connection: the upstream closed it before
			// the first response byte, so it never saw the request; or a
			// team connection whose api_base policy was replaced, which
			// sent nothing (a new one is checked under the new policy).
			return false, errors.Is(err, fasthttp.ErrConnectionClosed) || errors.Is(err, io.EOF) || errors.Is(err, errStalePolicy)
		},
	}
}

// Prepare points req at the upstream for call's deployment and endpoint
// (call.EndpointOrChat(), call.ObjectID): it sets the request URI and the
// provider's auth headers. The method, content type, Accept, the passed
// through headers and the body are set by the caller. A non-nil error is
// returned to the client as is.
type Prepare func(call *Call, req *fasthttp.Request) error

// HTTP is a Provider and Forwarder that sends the call body unchanged to
// the URL Prepare sets: the shape of every OpenAI-compatible upstream.
type HTTP struct {
	Client  *Client
	Prepare Prepare
	// Key, when set, is the upstream key a call to d sends (a provider's
	// environment default for the operator's deployments); nil: d.APIKey.
	// Errors and stream events are scrubbed of this key.
	Key func(d *configs.Deployment) string
}

// key is the upstream key a call to d sends.
func (p *HTTP) key(d *configs.Deployment) string {
	if p.Key != nil {
		return p.Key(d)
	}
	return d.APIKey
}

// NewHTTP returns an HTTP provider over client.
func NewHTTP(client *Client, prepare Prepare) *HTTP {
	return &HTTP{Client: client, Prepare: prepare}
}

// Complete sends the call and returns the upstream's 2xx answer.
func (p *HTTP) Complete(call *Call) (res *Response, err error) {
	defer observe(call, time.Now(), &err)
	req, t, err := p.request(call, false)
	if err != nil {
		return nil, err
	}
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if call.Abort != nil {
		req.SetUserValue(abortKey, call.Abort)
	}

	if err := p.Client.For(call.Deployment).DoDeadline(req, resp, t.deadline); err != nil {
		if call.Abort != nil && call.Abort.Aborted() {
			err = errAborted
		}
		return nil, t.transportError(err)
	}
	body, err := resp.BodyUncompressedWithLimit(maxResponseBody)
	if err != nil {
		return nil, t.fail(t.upstream()+" answered a body that could not be decoded (content-encoding "+
			strconv.Quote(string(resp.Header.ContentEncoding()))+")", err.Error())
	}
	status := resp.StatusCode()
	if status < 200 || status > 299 {
		return nil, t.statusError(status, resp.Header.Peek(fasthttp.HeaderRetryAfter), body)
	}
	return &Response{
		Status:      status,
		ContentType: string(resp.Header.ContentType()),
		Body:        bytes.Clone(body),
	}, nil
}

// Forward is Complete for any endpoint Prepare knows.
func (p *HTTP) Forward(call *Call) (*Response, error) { return p.Complete(call) }

// ForwardStream is OpenStream for any endpoint Prepare knows.
func (p *HTTP) ForwardStream(call *Call) (Stream, error) { return p.OpenStream(call) }

// OpenStream sends the call and returns the upstream's event stream. The
// call's deadline bounds the whole stream; the caller must Close it.
func (p *HTTP) OpenStream(call *Call) (s Stream, err error) {
	defer observe(call, time.Now(), &err)
	req, t, err := p.request(call, true)
	if err != nil {
		return nil, err
	}
	resp := fasthttp.AcquireResponse()
	resp.StreamBody = true
	release := func() {
		fasthttp.ReleaseResponse(resp) // also closes a still open body stream
		fasthttp.ReleaseRequest(req)
	}

	if err := p.Client.For(call.Deployment).DoDeadline(req, resp, t.deadline); err != nil {
		release()
		return nil, t.transportError(err)
	}
	body := resp.BodyStream()
	if body == nil { // no body at all, e.g. 204
		body = bytes.NewReader(nil)
	}
	status := resp.StatusCode()
	if status < 200 || status > 299 || bytes.HasPrefix(resp.Header.ContentType(), []byte("application/json")) {
		// An error, or a server that ignored "stream": read the small body.
		msg, _ := io.ReadAll(io.LimitReader(body, 64<<10))
		retryAfter := bytes.Clone(resp.Header.Peek(fasthttp.HeaderRetryAfter))
		release()
		if status >= 200 && status <= 299 {
			if !hasErrorMessage(msg) {
				return nil, t.fail(t.upstream()+" answered JSON instead of an event stream; check that it supports \"stream\": true",
					"answered content-type "+string(resp.Header.ContentType())+" to a stream request")
			}
			status = 502
		}
		return nil, t.statusError(status, retryAfter, msg)
	}
	provider := call.Deployment.Provider
	st := newSSEStream(body, release, func(err error) error {
		if !errors.Is(err, errStreamClosed) { // closed by us: the client went away
			metrics.UpstreamStreamFailed(provider)
		}
		return t.transportError(err)
	})
	st.key = t.key
	if conn := trackedConn(resp); conn != nil && resp.Header.ContentLength() == -1 { // chunked
		st.endErr = func() error {
			if conn.peerEOF.Load() {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
	}
	return st, nil
}

// observe records an upstream call's latency (for streams: to the response
// headers) and, for a failure, its kind.
func observe(call *Call, start time.Time, err *error) {
	if !metrics.Enabled() || call == nil || call.Deployment == nil {
		return
	}
	status := 200
	if *err != nil {
		status = 502
		if we, ok := errors.AsType[*wire.Error](*err); ok {
			status = we.Status
		}
		if status == 499 {
			return // the client hung up: the upstream did nothing wrong
		}
	}
	metrics.ObserveUpstream(call.Deployment.Provider, time.Since(start), status)
}

// request builds the upstream request for call; the caller releases it.
func (p *HTTP) request(call *Call, stream bool) (*fasthttp.Request, *target, error) {
	d := call.Deployment
	if d == nil {
		return nil, nil, wire.Errorf(500, wire.TypeInternal, "upstream call without a deployment")
	}
	deadline := call.Deadline
	if deadline.IsZero() {
		deadline = time.Now().Add(DefaultTimeout)
	}
	req := fasthttp.AcquireRequest()
	if err := p.Prepare(call, req); err != nil {
		fasthttp.ReleaseRequest(req)
		if we, ok := errors.AsType[*wire.Error](err); ok {
			return nil, nil, we
		}
		return nil, nil, wire.Errorf(500, wire.TypeInternal, "deployment %q is misconfigured: %s",
			d.PublicName(), Scrub(p.key(d), err.Error()))
	}
	switch ep := call.EndpointOrChat(); {
	case call.Method != "" && call.Method != fasthttp.MethodPost:
		req.Header.SetMethod(call.Method) // GET / DELETE of a stored object: no body
		req.Header.Set(fasthttp.HeaderAccept, "application/json")
	default:
		req.Header.SetMethod(fasthttp.MethodPost)
		if call.ContentType != "" {
			req.Header.SetContentType(call.ContentType)
		} else {
			req.Header.SetContentType("application/json")
		}
		switch {
		case stream:
			req.Header.Set(fasthttp.HeaderAccept, "text/event-stream")
		case ep != registry.EndpointSpeech: // speech answers audio
			req.Header.Set(fasthttp.HeaderAccept, "application/json")
		}
		req.SetBodyRaw(call.Body) // not copied: Call.Body is never modified
	}
	for _, h := range call.Header {
		req.Header.Set(h.Name, h.Value)
	}
	t := &target{
		deployment: d,
		key:        p.key(d),
		host:       string(req.URI().Host()),
		deadline:   deadline,
		budget:     time.Until(deadline),
	}
	return req, t, nil
}
