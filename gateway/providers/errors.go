package providers

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
	"github.com/llmgateway/gateway/gateway/wire"
)

// maxMessage caps an upstream message quoted in an error.
const maxMessage = 2048

// target is what error messages need to know about one upstream call.
type target struct {
	deployment *configs.Deployment
	host       string // host[:port] only: never the path or query
	deadline   time.Time
	budget     time.Duration // the time the call had, for messages
}

func (t *target) scrub(s string) string { return scrub(t.deployment.APIKey, s) }

// transportError maps an error of the HTTP exchange (no usable status) to a
// *wire.Error: 504 for a timeout, 502 otherwise.
func (t *target) transportError(err error) error {
	var ne net.Error
	var denied *egress.Denied
	switch {
	case errors.As(err, &denied):
		// Refused by the api_base policy: no upstream was reached, and the
		// message names no address (the log has it).
		return wire.Errorf(403, wire.TypePermission, "deployment %q cannot be called: %s", t.deployment.PublicName(), denied.Public())
	case errors.Is(err, errStreamClosed):
		return wire.Errorf(502, wire.TypeUpstream, "the stream from upstream %s was closed before it ended", t.host)
	case errors.Is(err, fasthttp.ErrDialTimeout):
		return wire.Errorf(502, wire.TypeUpstream, "upstream %s unreachable: connecting timed out", t.host)
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout(), !time.Now().Before(t.deadline):
		return &wire.Error{Status: 504, Type: wire.TypeTimeout, Message: "upstream timed out after " +
			seconds(t.budget) + " calling " + t.deployment.PublicName() +
			"; raise litellm_params.timeout or router_settings.timeout"}
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return wire.Errorf(502, wire.TypeUpstream,
			"upstream %s unreachable: all connections to it are busy; retry later", t.host)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return wire.Errorf(502, wire.TypeUpstream, "upstream %s answered more than %d MiB", t.host, maxResponseBody>>20)
	default:
		return wire.Errorf(502, wire.TypeUpstream, "upstream %s unreachable: %s", t.host, t.scrub(err.Error()))
	}
}

// statusError turns a non-2xx upstream answer into a *wire.Error keeping the
// upstream's status, type and message (OpenAI envelope, or the start of the
// body), with the deployment's key scrubbed out.
func (t *target) statusError(status int, retryAfter, body []byte) *wire.Error {
	e := &wire.Error{Status: status}
	if status < 400 || status > 599 { // a redirect or other oddity is no answer
		e.Status = 502
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
	if e.Message == "" {
		e.Message = "upstream " + t.host + " answered " + strconv.Itoa(status) + " without a message"
	} else if e.Status != status {
		e.Message = "upstream " + t.host + " answered " + strconv.Itoa(status) + ": " + e.Message
	}
	if e.Type == "" {
		e.Type = typeFor(e.Status)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(retryAfter))); err == nil && n > 0 {
		e.RetryAfter = n
	}
	return e
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

// scrub replaces every occurrence of key in s by its masked form.
func scrub(key, s string) string {
	if key == "" || !strings.Contains(s, key) {
		return s
	}
	return strings.ReplaceAll(s, key, MaskKey(key))
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
