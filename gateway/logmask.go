package gateway

import (
	"bytes"
	"crypto/subtle"
	"strconv"
	"strings"

	"github.com/llmgateway/gateway/configs"
)

// What the access log shows of a request's path and model name: never a
// key. One rule for every route, matched or not, answered or refused:
//
//   - a static route's path is its pattern: logged as is (the hot path
//     pays one comparison);
//   - otherwise every path segment that may be a key is masked the way
//     key_name is ("sk-...wxyz"): a segment in a {key} parameter, any
//     segment starting with "sk-" (any letter case), and any other
//     parameter or unmatched segment that is a key the gateway knows (a
//     team's key, the master key, general_settings.metrics_key), unless it
//     is a model name that resolved.
//   - a model name that did not resolve is masked by the same test (a
//     client that pasted its key as the model).

// maxLoggedSegments bounds the path segments an unmatched path is checked
// and logged with; the rest is summarised, so a long made-up path costs a
// bounded number of key lookups.
const maxLoggedSegments = 16

// logPath returns path as the access log shows it.
func (s *Server) logPath(info *requestInfo, path []byte) []byte {
	if info.route != "" && string(path) == info.route {
		return path // a static route: nothing but the pattern
	}
	pattern := info.route
	out := make([]byte, 0, len(path))
	seg, n := 0, 0
	for i := 0; i < len(path); {
		if path[i] == '/' {
			out = append(out, '/')
			i++
			continue
		}
		j := bytes.IndexByte(path[i:], '/')
		if j < 0 {
			j = len(path)
		} else {
			j += i
		}
		v := path[i:j]
		i = j
		param, static := patternSegment(pattern, seg)
		seg++
		if pattern == "" || !static {
			n++
		}
		if n > maxLoggedSegments {
			rest := 1 + bytes.Count(path[i:], []byte{'/'})
			out = append(out, "[+"...)
			out = strconv.AppendInt(out, int64(rest), 10)
			out = append(out, " segments]"...)
			break
		}
		switch {
		case static && string(v) == param:
			out = append(out, v...) // the route's own literal segment
		case param == "{key}" || hasKeyPrefix(v) ||
			!(param == "{model}" && info.deployment != "") && s.isKnownKey(v):
			out = append(out, configs.MaskKey(string(v))...)
		default:
			out = append(out, v...)
		}
	}
	return out
}

// logMethod returns the method as the access log shows it: a matched
// route's as is; a made-up one (fasthttp accepts any token) by the same
// key test as a path segment.
func (s *Server) logMethod(info *requestInfo, method []byte) []byte {
	if info.route != "" || !(hasKeyPrefix(method) || s.isKnownKey(method)) {
		return method
	}
	return []byte(configs.MaskKey(string(method)))
}

// logModel returns the model name as the access log shows it.
func (s *Server) logModel(info *requestInfo) string {
	if info.deployment != "" || info.model == "" {
		return info.model // it resolved: a configured name
	}
	if hasKeyPrefix([]byte(info.model)) || s.isKnownKey([]byte(info.model)) {
		return configs.MaskKey(info.model)
	}
	return info.model
}

// patternSegment returns the i-th segment of a route pattern and whether
// it is a literal (not a {parameter}). A catch-all {name:*} covers every
// segment from its own on.
func patternSegment(pattern string, i int) (string, bool) {
	if pattern == "" {
		return "", false
	}
	p := pattern
	for k := 0; ; k++ {
		for len(p) > 0 && p[0] == '/' {
			p = p[1:]
		}
		if p == "" {
			return "", false
		}
		end := len(p)
		if j := strings.IndexByte(p, '/'); j >= 0 {
			end = j
		}
		seg := p[:end]
		if len(seg) > 0 && seg[0] == '{' && len(seg) > 3 && seg[len(seg)-3:] == ":*}" {
			return seg, false
		}
		if k == i {
			return seg, len(seg) == 0 || seg[0] != '{'
		}
		p = p[end:]
	}
}

// hasKeyPrefix reports whether b starts with "sk-" in any letter case (the
// prefix of the gateway's and most providers' keys).
func hasKeyPrefix(b []byte) bool {
	return len(b) >= 3 && b[0]|0x20 == 's' && b[1]|0x20 == 'k' && b[2] == '-'
}

// isKnownKey reports whether b is a key the gateway would accept: a
// team's key, the master key or the metrics key.
func (s *Server) isKnownKey(b []byte) bool {
	if len(b) == 0 || s.opts.Directory == nil {
		return false
	}
	if _, ok := s.opts.Directory.Authenticate(string(b)); ok {
		return true
	}
	if snap := s.snapshot(); snap != nil && snap.Settings.MetricsKey != "" {
		return subtle.ConstantTimeCompare(b, []byte(snap.Settings.MetricsKey)) == 1
	}
	return false
}
