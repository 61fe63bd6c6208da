package providers_test

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/internal/fakeupstream"
)

// forms are the copies of key an upstream may echo.
func forms(key string) map[string]string {
	f := map[string]string{
		"exact": key, "lower": strings.ToLower(key), "upper": strings.ToUpper(key),
		"query": url.QueryEscape(key), "path": url.PathEscape(key),
		"query lower hex": strings.ToLower(url.QueryEscape(key)),
	}
	for name, enc := range map[string]*base64.Encoding{"std": base64.StdEncoding, "url": base64.URLEncoding,
		"rawstd": base64.RawStdEncoding, "rawurl": base64.RawURLEncoding} {
		for _, pre := range []string{"", "u", "us", "user:"} {
			f[name+" after "+pre] = enc.EncodeToString([]byte(pre + key + "tail"))
			f[name+" alone after "+pre] = enc.EncodeToString([]byte(pre + key))
		}
	}
	return f
}

// TestScrubEveryForm: every form of the key, anywhere in a text, is gone
// after Scrub, and the text around it is kept.
func TestScrubEveryForm(t *testing.T) {
	t.Parallel()
	for _, key := range []string{testKey, "sk-ReqPath/Secret+Key=0123456789", "AbCdEfGh", "sk-proj-" + strings.Repeat("Zy9_", 12)} {
		for name, form := range forms(key) {
			for _, text := range []string{form, "key: " + form + ".", "a" + form + form + "b"} {
				got := providers.Scrub(key, text)
				for other, f := range forms(key) {
					if strings.Contains(got, f) && len(f) >= 8 {
						t.Errorf("key %q, %s in %q: %s survives: %q", key, name, text, other, got)
					}
				}
				if strings.HasPrefix(text, "key: ") && (!strings.HasPrefix(got, "key: ") || !strings.HasSuffix(got, ".")) {
					t.Errorf("the text around the key changed: %q", got)
				}
			}
		}
	}
	if got := providers.Scrub(testKey, "nothing here"); got != "nothing here" {
		t.Errorf("a text without the key changed: %q", got)
	}
	if got := providers.Scrub("", "anything"); got != "anything" {
		t.Errorf("an empty key changed the text: %q", got)
	}
	// A short key is scrubbed as is, but its base64 forms (a few
	// characters) are not hunted in ordinary text.
	if got := providers.Scrub("abc", "xyz YWJj abc ABC"); got != "xyz YWJj **** ****" {
		t.Errorf("short key: %q", got)
	}
}

// TestUnaryErrorScrubsEveryForm: an upstream error quoting the key in any
// form reaches the caller masked.
func TestUnaryErrorScrubsEveryForm(t *testing.T) {
	t.Parallel()
	var echo strings.Builder
	for _, f := range forms(testKey) {
		echo.WriteString(f + " ")
	}
	up := fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetStatusCode(401)
		ctx.SetBodyString(`{"error":{"message":"bad key ` + echo.String() + `","type":"invalid_request_error"}}`)
	})
	_, err := provider(up.URL).Complete(call(5 * 1e9))
	we := wireErr(t, err, 401)
	for name, f := range forms(testKey) {
		if strings.Contains(we.Message, f) {
			t.Errorf("%s survives: %q", name, we.Message)
		}
	}
}

// TestStreamErrorEventScrubbed: an error event echoing the key is relayed
// with the key masked; other events are untouched.
func TestStreamErrorEventScrubbed(t *testing.T) {
	t.Parallel()
	b64 := base64.StdEncoding.EncodeToString([]byte(testKey))
	s, err := provider(rawUpstream(t, `data: {"n":"`+testKey+`"}`+"\n\n"+
		`data: {"error":{"message":"Incorrect API key provided: `+strings.ToUpper(testKey)+` `+b64+`"}}`+"\n\n", "0\r\n\r\n")).
		OpenStream(call(5 * 1e9))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev, err := s.Next()
	if err != nil || string(ev) != `{"n":"`+testKey+`"}` {
		t.Fatalf("a chunk that is no error event: %q %v", ev, err)
	}
	ev, err = s.Next()
	if err != nil || !strings.Contains(string(ev), "Incorrect API key provided: sk-t****cdef sk-t****cdef") {
		t.Fatalf("error event = %q, %v", ev, err)
	}
}
