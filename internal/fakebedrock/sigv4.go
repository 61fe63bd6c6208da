package fakebedrock

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file verifies AWS Signature Version 4 as AWS documents it
// ("Create a canonical request for Signature Version 4"), written from the
// documentation and not with the SDK's signer, so that a request the
// gateway signs wrongly (a path escaped once instead of twice, a header
// sent but not signed as sent) fails here as it would at AWS.

// maxSkew is how far a request's X-Amz-Date may be from the fake's clock.
const maxSkew = 5 * time.Minute

// sigError is a refused signature: AWS's exception type and message.
type sigError struct {
	status int
	typ    string
	msg    string
}

// authorization is a parsed Authorization header.
type authorization struct {
	keyID, date, region, service string
	signedHeaders                []string
	signature                    string
}

func parseAuthorization(h string) (a authorization, ok bool) {
	rest, found := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !found {
		return a, false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return a, false
			}
			a.keyID, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	return a, a.keyID != "" && len(a.signedHeaders) > 0 && a.signature != ""
}

// canonicalURI is the request's path as sent, URI-encoded once more (each
// segment encoded twice in all: the rule for every service but S3).
func canonicalURI(rawPath string) string {
	if rawPath == "" {
		return "/"
	}
	var b strings.Builder
	for i := 0; i < len(rawPath); i++ {
		c := rawPath[i]
		if c == '/' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}

// uriEncode encodes s as SigV4 does for query names and values.
func uriEncode(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(url.QueryEscape(s), "+", "%20"), "%7E", "~")
}

func canonicalQuery(raw string) string {
	vals, _ := url.ParseQuery(raw)
	type kv struct{ k, v string }
	var all []kv
	for k, vs := range vals {
		for _, v := range vs {
			all = append(all, kv{uriEncode(k), uriEncode(v)})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].k != all[j].k {
			return all[i].k < all[j].k
		}
		return all[i].v < all[j].v
	})
	parts := make([]string, len(all))
	for i, p := range all {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

func trimAll(s string) string { return strings.Join(strings.Fields(s), " ") }

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signature computes the SigV4 signature of r (its body being body) for
// the header's scope with secret, and the canonical request.
func signature(r *http.Request, body []byte, a authorization, amzDate, secret string) (sig, canonical string) {
	rawPath, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	var ch strings.Builder
	for _, h := range a.signedHeaders {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = strconv.FormatInt(r.ContentLength, 10)
		default:
			v = strings.Join(r.Header.Values(h), ",")
		}
		ch.WriteString(h + ":" + trimAll(v) + "\n")
	}
	canonical = strings.Join([]string{r.Method, canonicalURI(rawPath), canonicalQuery(rawQuery), ch.String(),
		strings.Join(a.signedHeaders, ";"), hexSHA256(body)}, "\n")
	scope := a.date + "/" + a.region + "/" + a.service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hexSHA256([]byte(canonical))
	k := hmacSHA256([]byte("AWS4"+secret), a.date)
	k = hmacSHA256(k, a.region)
	k = hmacSHA256(k, a.service)
	k = hmacSHA256(k, "aws4_request")
	return hex.EncodeToString(hmacSHA256(k, toSign)), canonical
}

// verify checks r's SigV4 signature for service in region; secretOf
// returns the secret (and the session token it requires, "" for none)
// of an access key id.
func verify(r *http.Request, body []byte, service, region string, now time.Time,
	secretOf func(keyID string) (secret, token string, ok bool)) (keyID string, _ *sigError) {
	a, ok := parseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return "", &sigError{403, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	secret, token, ok := secretOf(a.keyID)
	if !ok {
		return "", &sigError{403, "UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return "", &sigError{400, "IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."}
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return "", &sigError{403, "InvalidSignatureException", "Signature expired: " + amzDate + " is now earlier than " + now.Add(-maxSkew).UTC().Format("20060102T150405Z")}
	}
	if a.date != amzDate[:8] {
		return "", &sigError{403, "InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP"}
	}
	if a.region != region || a.service != service {
		return "", &sigError{403, "InvalidSignatureException", "Credential should be scoped to a valid region and service: expected " + region + "/" + service + ", got " + a.region + "/" + a.service}
	}
	signed := map[string]bool{}
	for _, h := range a.signedHeaders {
		signed[h] = true
	}
	if !signed["host"] || !signed["x-amz-date"] {
		return "", &sigError{403, "InvalidSignatureException", "'Host' and 'X-Amz-Date' must be signed headers"}
	}
	if token != "" {
		if r.Header.Get("X-Amz-Security-Token") != token {
			return "", &sigError{403, "UnrecognizedClientException", "The security token included in the request is invalid."}
		}
		if !signed["x-amz-security-token"] {
			return "", &sigError{403, "InvalidSignatureException", "X-Amz-Security-Token must be signed"}
		}
	}
	sig, canonical := signature(r, body, a, amzDate, secret)
	if !hmac.Equal([]byte(sig), []byte(a.signature)) {
		return "", &sigError{403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. The Canonical String for this request should have been\n'" + canonical + "'"}
	}
	return a.keyID, nil
}
