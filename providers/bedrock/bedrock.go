package bedrock

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
	"github.com/llmgateway/gateway/metrics"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// Provider is the bedrock provider: chat through the Converse API
// (translated from and to OpenAI's chat shape), and embeddings through
// InvokeModel (Titan and Cohere, translated from and to OpenAI's).
type Provider struct {
	client *providers.Client
	creds  credCache
	// now is the signing clock (tests).
	now func() time.Time
}

var (
	_ providers.Provider  = (*Provider)(nil)
	_ providers.Forwarder = (*Provider)(nil)
)

// New returns the bedrock provider over the shared client.
func New(client *providers.Client) providers.Provider {
	return &Provider{client: client, now: time.Now}
}

// modelID is the Bedrock model id of d: its upstream model without
// LiteLLM's route prefix ("converse/anthropic.claude-..."): a model id,
// a cross-region inference profile id ("us.anthropic.claude-...") or an
// ARN.
func modelID(d *configs.Deployment) string {
	m := d.UpstreamModel
	if m == "" {
		_, m, _ = strings.Cut(d.LiteLLMParams.Model, "/")
	}
	return strings.TrimPrefix(m, "converse/")
}

// prepared is one signed upstream request ready to send.
type prepared struct {
	req      *fasthttp.Request
	cr       aws.Credentials
	host     string
	deadline time.Time
	budget   time.Duration
}

// prepare builds and signs the POST of body to {endpoint}/model/{id}/{op}.
func (p *Provider) prepare(call *providers.Call, op string, body []byte, accept string) (*prepared, error) {
	d := call.Deployment
	if d == nil {
		return nil, wire.Errorf(500, wire.TypeInternal, "upstream call without a deployment")
	}
	deadline := call.Deadline
	if deadline.IsZero() {
		deadline = time.Now().Add(providers.DefaultTimeout)
	}
	reg, werr := region(d)
	if werr != nil {
		return nil, werr
	}
	model := modelID(d)
	if model == "" {
		return nil, wire.Errorf(500, wire.TypeInternal, "deployment %q names no Bedrock model; set litellm_params.model to bedrock/<model-id>", d.PublicName())
	}
	rawURL := endpoint(d, reg) + "/model/" + escapePath(model) + "/" + op
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	cr, err := p.credentialsFor(ctx, d, reg)
	if err != nil {
		return nil, err
	}
	req := fasthttp.AcquireRequest()
	req.SetRequestURI(rawURL)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set(fasthttp.HeaderAccept, accept)
	req.SetBodyRaw(body)
	if err := sign(ctx, cr, reg, rawURL, body, p.now(), req); err != nil {
		fasthttp.ReleaseRequest(req)
		return nil, scrubErr(wire.Errorf(500, wire.TypeInternal, "deployment %q is misconfigured: %s", d.PublicName(), err.Error()), d, &cr)
	}
	return &prepared{req: req, cr: cr, host: string(req.URI().Host()), deadline: deadline, budget: time.Until(deadline)}, nil
}

// do sends a unary request and returns the 2xx answer's body and the
// input token count header, or the upstream's error.
func (p *Provider) do(call *providers.Call, pr *prepared) (body []byte, inputTokens int64, err error) {
	d := call.Deployment
	defer fasthttp.ReleaseRequest(pr.req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := p.client.For(d).DoDeadline(pr.req, resp, pr.deadline); err != nil {
		return nil, 0, scrubErr(transportError(d, pr, err), d, &pr.cr)
	}
	b, err := resp.BodyUncompressedWithLimit(64 << 20)
	if err != nil {
		return nil, 0, &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "the upstream of model " + strconv.Quote(d.PublicName()) + " answered a body that could not be decoded"}
	}
	if s := resp.StatusCode(); s < 200 || s > 299 {
		return nil, 0, scrubErr(statusError(d, pr, s, resp.Header.Peek("X-Amzn-Errortype"), resp.Header.Peek(fasthttp.HeaderRetryAfter), b), d, &pr.cr)
	}
	n, _ := strconv.ParseInt(string(resp.Header.Peek("X-Amzn-Bedrock-Input-Token-Count")), 10, 64)
	return bytes.Clone(b), n, nil
}

// observe records an upstream call's latency (for streams: to the
// response headers) and, for a failure, its status.
func observe(call *providers.Call, start time.Time, err *error) {
	if !metrics.Enabled() || call == nil || call.Deployment == nil {
		return
	}
	status := 200
	if *err != nil {
		status = 502
		if we, ok := errors.AsType[*wire.Error](*err); ok {
			status = we.Status
		}
	}
	metrics.ObserveUpstream(call.Deployment.Provider, time.Since(start), status)
}

// Complete translates an OpenAI chat request to a Converse call and its
// answer back to a chat.completion.
func (p *Provider) Complete(call *providers.Call) (_ *providers.Response, err error) {
	defer observe(call, time.Now(), &err)
	if call.Deployment == nil {
		return nil, wire.Errorf(500, wire.TypeInternal, "upstream call without a deployment")
	}
	body, info, werr := translateRequest(call.Body, modelID(call.Deployment))
	if werr != nil {
		return nil, werr
	}
	pr, err := p.prepare(call, "converse", body, "application/json")
	if err != nil {
		return nil, err
	}
	answer, _, err := p.do(call, pr)
	if err != nil {
		return nil, err
	}
	out, why := translateResponse(answer, info, "", time.Now().Unix())
	if why != "" {
		return nil, &wire.Error{Status: 502, Type: wire.TypeUpstream,
			Message:  "the upstream of model " + strconv.Quote(call.Deployment.PublicName()) + " answered 200 with " + why,
			Internal: "bedrock: the Converse answer could not be translated"}
	}
	return &providers.Response{Status: 200, ContentType: "application/json", Body: out}, nil
}

// OpenStream translates an OpenAI chat request to a ConverseStream call;
// its event-stream frames come back as chat.completion.chunk payloads.
func (p *Provider) OpenStream(call *providers.Call) (_ providers.Stream, err error) {
	defer observe(call, time.Now(), &err)
	d := call.Deployment
	if d == nil {
		return nil, wire.Errorf(500, wire.TypeInternal, "upstream call without a deployment")
	}
	body, info, werr := translateRequest(call.Body, modelID(d))
	if werr != nil {
		return nil, werr
	}
	pr, err := p.prepare(call, "converse-stream", body, "application/vnd.amazon.eventstream")
	if err != nil {
		return nil, err
	}
	resp := fasthttp.AcquireResponse()
	resp.StreamBody = true
	release := func() {
		fasthttp.ReleaseResponse(resp)
		fasthttp.ReleaseRequest(pr.req)
	}
	if err := p.client.For(d).DoDeadline(pr.req, resp, pr.deadline); err != nil {
		release()
		return nil, scrubErr(transportError(d, pr, err), d, &pr.cr)
	}
	rd := resp.BodyStream()
	if rd == nil {
		rd = bytes.NewReader(nil)
	}
	if s := resp.StatusCode(); s < 200 || s > 299 || bytes.HasPrefix(resp.Header.ContentType(), []byte("application/json")) {
		msg, _ := io.ReadAll(io.LimitReader(rd, 64<<10))
		typ := bytes.Clone(resp.Header.Peek("X-Amzn-Errortype"))
		ra := bytes.Clone(resp.Header.Peek(fasthttp.HeaderRetryAfter))
		closeBody(rd, false)
		release()
		if s >= 200 && s <= 299 {
			s = 502
		}
		return nil, scrubErr(statusError(d, pr, s, typ, ra, msg), d, &pr.cr)
	}
	cr := pr.cr
	mapErr := func(err error) error { return scrubErr(transportError(d, pr, err), d, &cr) }
	st := newChatStream(rd, nil, mapErr, info, d.PublicName())
	st.release = func() {
		closeBody(rd, st.ended.Load())
		release()
	}
	st.onFail = func() { metrics.UpstreamStreamFailed(d.Provider) }
	return &scrubbedStream{chatStream: st, d: d, cr: cr}, nil
}

// scrubbedStream scrubs a mid-stream error of the call's secrets.
type scrubbedStream struct {
	*chatStream
	d  *configs.Deployment
	cr aws.Credentials
}

func (s *scrubbedStream) Next() ([]byte, error) {
	b, err := s.chatStream.Next()
	if err != nil && err != io.EOF {
		return nil, scrubErr(err, s.d, &s.cr)
	}
	return b, err
}

// closeBody ends a streamed body: kept for reuse when it was read to its
// end, the connection closed otherwise (unblocking a pending read).
func closeBody(rd io.Reader, ended bool) {
	if c, ok := rd.(fasthttp.ReadCloserWithError); ok {
		if ended {
			_ = c.CloseWithError(nil)
		} else {
			_ = c.CloseWithError(errStreamClosed)
		}
	}
}

var errStreamClosed = errors.New("bedrock: the stream was closed before it ended")

// Forward serves /v1/embeddings (InvokeModel, translated).
func (p *Provider) Forward(call *providers.Call) (_ *providers.Response, err error) {
	defer observe(call, time.Now(), &err)
	if call.EndpointOrChat() != registry.EndpointEmbeddings {
		return nil, notServed(call)
	}
	return p.embed(call)
}

// ForwardStream: no streamed endpoint besides chat.
func (p *Provider) ForwardStream(call *providers.Call) (providers.Stream, error) {
	return nil, notServed(call)
}

func notServed(call *providers.Call) error {
	name := ""
	if call.Deployment != nil {
		name = call.Deployment.PublicName()
	}
	return wire.Errorf(404, wire.TypeNotFound, "model %q (a Bedrock deployment) does not serve /v1/%s", name, call.EndpointOrChat())
}

// transportError maps an error of the HTTP exchange (no usable status).
func transportError(d *configs.Deployment, pr *prepared, err error) error {
	if we, ok := errors.AsType[*wire.Error](err); ok {
		return we
	}
	var denied *egress.Denied
	var ne net.Error
	name := strconv.Quote(d.PublicName())
	internal := "upstream " + pr.host + ": " + err.Error()
	switch {
	case errors.As(err, &denied):
		return &wire.Error{Status: 403, Type: wire.TypePermission, Message: "deployment " + name + " cannot be called: " + denied.Public(), Internal: internal}
	case errors.Is(err, errStreamClosed):
		return &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "the upstream of model " + name + ": the stream was closed before it ended", Internal: internal}
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout(), !time.Now().Before(pr.deadline):
		return &wire.Error{Status: 504, Type: wire.TypeTimeout, Message: "upstream timed out after " +
			strconv.FormatFloat(pr.budget.Round(100*time.Millisecond).Seconds(), 'f', -1, 64) + "s calling " + d.PublicName() +
			"; raise litellm_params.timeout or router_settings.timeout", Internal: internal}
	default:
		return &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "the upstream of model " + name + " could not be reached", Internal: internal}
	}
}

// statusError is the *wire.Error of a non-2xx Bedrock answer: its status
// kept, its exception type (x-amzn-errortype, "ThrottlingException:..."
// without the part after the colon) starting its message, retry-after
// kept, the upstream's address left out.
func statusError(d *configs.Deployment, pr *prepared, status int, errType, retryAfter, body []byte) *wire.Error {
	typ, _, _ := strings.Cut(string(errType), ":")
	e := exceptionError(typ, body)
	if e.Message == "Bedrock reported " || strings.HasPrefix(e.Message, "Bedrock reported ") && typ == "" {
		e.Message = "the upstream of model " + strconv.Quote(d.PublicName()) + " answered " + strconv.Itoa(status)
		if t := strings.TrimSpace(string(body)); t != "" {
			e.Message += ": " + truncate(t, 512)
		}
	}
	if status >= 400 && status <= 599 {
		e.Status = status
	} else {
		e.Status = 502
	}
	e.Type = typeFor(e.Status)
	if pr.host != "" {
		e.Message = strings.ReplaceAll(e.Message, pr.host, "<upstream>")
	}
	e.Internal = "upstream " + pr.host + " answered " + strconv.Itoa(status)
	if n, err := strconv.Atoi(strings.TrimSpace(string(retryAfter))); err == nil && n > 0 {
		e.RetryAfter = n
	}
	return e
}
