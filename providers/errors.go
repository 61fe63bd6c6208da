package providers

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
	"github.com/llmgateway/gateway/wire"
)

// maxMessage caps an upstream message quoted in an error.
const maxMessage = 2048

// target is what error messages need to know about one upstream call.
type target struct {
	deployment *configs.Deployment
	key        string // the upstream key the call sent (HTTP.Key)
	host       string // host[:port] only: never the path or query
	deadline   time.Time
	budget     time.Duration // the time the call had, for messages
}

// scrub removes the deployment's key and other credentials (in every form
// Scrub knows) and the
// upstream's address from s: what a client or the log may be shown of an
// upstream's words.
func (t *target) scrub(s string) string {
	s = Scrub(t.key, s)
	if t.deployment != nil {
		for _, v := range t.deployment.Credentials.Values() {
			s = Scrub(v, s)
		}
	}
	if t.host != "" && strings.Contains(s, t.host) {
		s = strings.ReplaceAll(s, t.host, "<upstream>")
	}
	if h := hostname(t.host); len(h) >= 4 && h != t.host && strings.Contains(s, h) {
		s = strings.ReplaceAll(s, h, "<upstream>")
	}
	return s
}

// hostname is host without its port and IPv6 brackets.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// upstream is how client messages name the upstream: by the deployment's
// public model name, never by its address (the log has that, with the
// request id the gateway adds to the message).
func (t *target) upstream() string {
	return "the upstream of model " + strconv.Quote(t.deployment.PublicName())
}

// fail is a 502 whose message says what happened in general terms and
// whose Internal detail (for the log only) names the upstream's address
// and the cause.
func (t *target) fail(msg, detail string) *wire.Error {
	return &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: msg,
		Internal: "upstream " + t.host + ": " + Scrub(t.key, detail)}
}

// transportError maps an error of the HTTP exchange (no usable status) to a
// *wire.Error: 504 for a timeout, 502 otherwise. The message never names
// the upstream's address or quotes the transport's error (which does);
// both go to Internal, for the log. A dial error that already is a
// *wire.Error (a refusal by the dialer's address policy) is the answer
// as is.
func (t *target) transportError(err error) error {
	var ne net.Error
	var denied *egress.Denied
	if we, ok := errors.AsType[*wire.Error](err); ok {
		return we
	}
	detail := err.Error()
	switch {
	case errors.As(err, &denied):
		// Refused by the api_base policy: no upstream was reached, and the
		// message names no address (the log has it).
		e := wire.Errorf(403, wire.TypePermission, "deployment %q cannot be called: %s", t.deployment.PublicName(), denied.Public())
		e.Internal = "upstream " + t.host + ": " + detail
		return e
	case errors.Is(err, errAborted):
		return &wire.Error{Status: 499, Type: wire.TypeInvalidRequest,
			Message:  "the client closed the connection; the upstream call was cancelled",
			Internal: "upstream " + t.host + ": cancelled: the client went away"}
	case errors.Is(err, errStreamClosed):
		return t.fail(t.upstream()+": the stream was closed before it ended", detail)
	case errors.Is(err, errEventNotJSON):
		return t.fail(t.upstream()+" sent an event that is not JSON; the stream was ended", detail)
	case errors.Is(err, errEventTooBig):
		return t.fail(t.upstream()+" sent an event larger than 16 MiB; the stream was ended", detail)
	case errors.Is(err, fasthttp.ErrDialTimeout) && time.Now().Before(t.deadline):
		// The dial has the call's remaining time: a dial that ran out of
		// it is the call's timeout (504, below), not an unreachable
		// upstream, so that a caller's short timeout never cools down a
		// deployment.
		return t.fail(t.upstream()+" could not be reached: connecting timed out", detail)
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout(), !time.Now().Before(t.deadline):
		return &wire.Error{Status: 504, Type: wire.TypeTimeout, Message: "upstream timed out after " +
			seconds(t.budget) + " calling " + t.deployment.PublicName() +
			"; raise litellm_params.timeout or router_settings.timeout",
			Internal: "upstream " + t.host + ": " + Scrub(t.key, detail)}
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return t.fail(t.upstream()+" could not be reached: all connections to it are busy; retry later", detail)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return t.fail(t.upstream()+" answered more than "+strconv.Itoa(maxResponseBody>>20)+" MiB", detail)
	default:
		return t.fail(t.upstream()+" could not be reached: "+connFailure(err), detail)
	}
}

// connFailure says in general terms why a connection failed, naming no
// address.
func connFailure(err error) string {
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	var rec tls.RecordHeaderError
	switch {
	case errors.As(err, &dns):
		return "its host name did not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused"
	case errors.As(err, &cert), errors.As(err, &rec):
		return "the TLS handshake failed"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, fasthttp.ErrConnectionClosed), errors.Is(err, syscall.EPIPE):
		return "it closed the connection before it answered in full"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to it"
	default:
		return "the connection failed"
	}
}

// statusError turns a non-2xx upstream answer into a *wire.Error keeping the
// upstream's status, type and message (OpenAI envelope, or the start of the
// body), with the deployment's key and the upstream's address scrubbed out.
func (t *target) statusError(status int, retryAfter, body []byte) *wire.Error {
	e := &wire.Error{Status: status, Internal: "upstream " + t.host + " answered " + strconv.Itoa(status)}
	if status < 400 || status > 599 { // a redirect or other oddity is no answer
		e.Status, e.Final = 502, true
	}
	if v := gjson.GetBytes(body, "error"); v.IsObject() {
		e.Message = v.Get("message").String()
		e.Type = v.Get("type").String()
		if p := v.Get("param"); p.Type == gjson.String {
			e.Param = p.String()
		}
	} else if v.Type == gjson.String { // {"error": "..."} (Ollama and others)
		e.Message = v.String()
	} else if v := gjson.GetBytes(body, "message"); v.Type == gjson.String {
		e.Message = v.String()
	} else if v := gjson.GetBytes(body, "detail"); v.Exists() { // FastAPI servers
		e.Message = v.String()
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(body))
	}
	// Scrub before truncating so that no part of the key survives a cut.
	e.Message = truncate(t.scrub(e.Message), maxMessage)
	e.Type = t.scrub(e.Type)
	e.Param = t.scrub(e.Param)
	if e.Message == "" {
		e.Message = t.upstream() + " answered " + strconv.Itoa(status) + " without a message"
	} else if e.Status != status {
		e.Message = t.upstream() + " answered " + strconv.Itoa(status) + ": " + e.Message
	}
	if e.Type == "" {
		e.Type = typeFor(e.Status)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(retryAfter))); err == nil && n > 0 {
		e.RetryAfter = n
	} else if n := googleRetryDelay(body); n > 0 {
		e.RetryAfter = n
	}
	return e
}

// googleRetryDelay is the delay, in whole seconds rounded up, of a Google
// API error's google.rpc.RetryInfo detail ({"error": {"details": [{"@type":
// "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "6.2s"}]}}),
// which Google sends instead of a Retry-After header; 0 when absent.
func googleRetryDelay(body []byte) int {
	details := gjson.GetBytes(body, "error.details")
	if !details.IsArray() {
		return 0
	}
	n := 0
	details.ForEach(func(_, d gjson.Result) bool {
		var typ, delay string
		d.ForEach(func(k, v gjson.Result) bool { // "@type" is special in gjson paths
			switch k.Str {
			case "@type":
				typ = v.Str
			case "retryDelay":
				delay = v.Str
			}
			return true
		})
		if !strings.HasSuffix(typ, "google.rpc.RetryInfo") {
			return true
		}
		if dur, err := time.ParseDuration(delay); err == nil && dur > 0 {
			n = int((dur + time.Second - 1) / time.Second)
		}
		return false
	})
	return n
}

// hasErrorMessage reports whether body is an error envelope.
func hasErrorMessage(body []byte) bool {
	return gjson.GetBytes(body, "error").Exists()
}

// typeFor is the OpenAI error type for a status without one.
func typeFor(status int) string {
	switch status {
	case 400, 413, 422:
		return wire.TypeInvalidRequest
	case 401:
		return wire.TypeAuth
	case 403:
		return wire.TypePermission
	case 404:
		return wire.TypeNotFound
	case 429:
		return wire.TypeRateLimit
	case 408, 504:
		return wire.TypeTimeout
	default:
		return wire.TypeUpstream
	}
}

// MaskKey is the only form of an upstream key that may be shown:
// "sk-a****wxyz" for long keys, "****" for short ones.
func MaskKey(key string) string {
	if len(key) < 12 {
		return "****"
	}
	return key[:4] + "****" + key[len(key)-4:]
}

// Scrub replaces every copy of key in s by its masked form: the key as is
// and in any letter case (a server that lowercases what it echoes),
// URL-encoded (query and path escaping, hex digits in either case) and
// base64-encoded (standard and URL alphabets, padded or not, at any
// offset within a longer encoded text such as a Basic credential). It is
// the one scrub every path uses: error messages, their log details and
// stream events. It allocates only when s holds a copy.
func Scrub(key, s string) string {
	if key == "" || s == "" {
		return s
	}
	mask := MaskKey(key)
	s = replaceFold(s, key, mask)
	if q := url.QueryEscape(key); q != key {
		s = replaceFold(s, q, mask)
	}
	if p := url.PathEscape(key); p != key {
		s = replaceFold(s, p, mask)
	}
	if len(key) >= minBase64Key {
		for _, enc := range [...]*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			for off := range 3 {
				if core := base64Core(enc, key, off); strings.Contains(s, core) {
					s = strings.ReplaceAll(s, core, mask)
				}
			}
		}
	}
	return s
}

// minBase64Key is the shortest key whose base64 forms are scrubbed: the
// forms of a shorter one are too short to be told from other text.
const minBase64Key = 8

// base64Core is the part of the base64 encoding of key that every base64
// text holding key at a byte offset ≡ off (mod 3) contains: the characters
// that depend on key's bytes only. Padding only ever follows it, so the
// padded and unpadded forms share it.
func base64Core(enc *base64.Encoding, key string, off int) string {
	buf := make([]byte, off+len(key))
	copy(buf[off:], key)
	text := enc.WithPadding(base64.NoPadding).EncodeToString(buf)
	// Characters before ceil(off*8/6) carry bits of the bytes in front.
	first := (off*8 + 5) / 6
	// The last character that holds only key bits: the encoding of the
	// whole 6-bit groups that end within the text.
	last := (len(buf) * 8) / 6
	if first >= last {
		return text
	}
	return text[first:last]
}

// replaceFold replaces every ASCII-case-insensitive copy of old in s by
// repl.
func replaceFold(s, old, repl string) string {
	i := indexFold(s, old)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		b.WriteString(repl)
		s = s[i+len(old):]
		i = indexFold(s, old)
	}
	b.WriteString(s)
	return b.String()
}

// indexFold is strings.Index with ASCII letters matched in either case.
func indexFold(s, sub string) int {
	if len(sub) == 0 {
		return -1
	}
	c0 := lower(sub[0])
	for i := 0; i+len(sub) <= len(s); i++ {
		if lower(s[i]) == c0 && equalFoldASCII(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// seconds formats d as "1.5s", "600s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', -1, 64) + "s"
}
