package gateway

import (
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/wire"
)

const formBody = "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF....\r\n" +
	"--xyz\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nmy-whisper\r\n--xyz--\r\n"

func formCtx(body, contentType string) *fasthttp.RequestCtx {
	ctx := &fasthttp.RequestCtx{}
	ctx.Request.Header.SetContentType(contentType)
	ctx.Request.SetBodyString(body)
	return ctx
}

func TestParseFormFindsTheModel(t *testing.T) {
	t.Parallel()
	ctx := formCtx(formBody, "multipart/form-data; boundary=xyz")
	msg := &actors.Chat{Body: ctx.PostBody()}
	if werr := parseForm(ctx, msg, nil); werr != nil {
		t.Fatal(werr)
	}
	if msg.Model != "my-whisper" || msg.ContentType != "multipart/form-data; boundary=xyz" {
		t.Fatalf("model %q, content type %q", msg.Model, msg.ContentType)
	}
	out, err := wire.SetRawAt(msg.Body, msg.ModelAt, "whisper-1")
	if err != nil || !strings.Contains(string(out), "name=\"model\"\r\n\r\nwhisper-1\r\n--xyz--") {
		t.Fatalf("rewrite: %v %q", err, out)
	}
	// The Azure path names the model: the form's is not needed.
	msg = &actors.Chat{Body: ctx.PostBody()}
	if werr := parseForm(ctx, msg, "dep"); werr != nil || msg.Model != "dep" || msg.ModelAt != (wire.Span{}) {
		t.Fatalf("path model: %v %q %v", werr, msg.Model, msg.ModelAt)
	}
}

func TestParseFormRefusesWhatItCannotRoute(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, ct, want string }{
		{formBody, "application/json", "multipart/form-data"},
		{formBody, "multipart/form-data", "multipart/form-data"},
		{strings.Replace(formBody, "name=\"model\"", "name=\"modelx\"", 1), "multipart/form-data; boundary=xyz", "no `model` field"},
		{strings.Replace(formBody, "my-whisper", "", 1), "multipart/form-data; boundary=xyz", "empty"},
	} {
		ctx := formCtx(tc.body, tc.ct)
		werr := parseForm(ctx, &actors.Chat{Body: ctx.PostBody()}, nil)
		if werr == nil || werr.Status != 400 || !strings.Contains(werr.Message, tc.want) {
			t.Errorf("%q: %v, want a 400 saying %q", tc.ct, werr, tc.want)
		}
	}
}

func FuzzParseForm(f *testing.F) {
	f.Add(formBody, "xyz")
	f.Add("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm\r\n--b--", "b")
	f.Fuzz(func(t *testing.T, body, boundary string) {
		ctx := formCtx(body, "multipart/form-data; boundary="+boundary)
		msg := &actors.Chat{Body: ctx.PostBody()}
		if parseForm(ctx, msg, nil) == nil {
			// What was found is where it was said to be.
			if got := string(msg.Body[msg.ModelAt.Off : msg.ModelAt.Off+msg.ModelAt.Len]); got != msg.Model {
				t.Fatalf("model %q at %v holds %q", msg.Model, msg.ModelAt, got)
			}
		}
	})
}

// A file whose bytes imitate a model field cannot move the rewrite: the
// real field is the one rewritten, and two model fields are refused.
func TestParseFormIgnoresLookalikesInFiles(t *testing.T) {
	t.Parallel()
	body := "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nname=\"model\"\r\n\r\nmy-whisper\r\n\r\n" +
		"--xyz\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nmy-whisper\r\n--xyz--\r\n"
	ctx := formCtx(body, "multipart/form-data; boundary=xyz")
	msg := &actors.Chat{Body: ctx.PostBody()}
	if werr := parseForm(ctx, msg, nil); werr != nil {
		t.Fatal(werr)
	}
	if want := strings.LastIndex(body, "my-whisper"); msg.ModelAt.Off != want {
		t.Fatalf("model at %d, want the real field at %d", msg.ModelAt.Off, want)
	}
	two := strings.Replace(formBody, "--xyz--", "--xyz\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nother\r\n--xyz--", 1)
	ctx = formCtx(two, "multipart/form-data; boundary=xyz")
	if werr := parseForm(ctx, &actors.Chat{Body: ctx.PostBody()}, nil); werr == nil || !strings.Contains(werr.Message, "more than one") {
		t.Fatalf("two model fields: %v", werr)
	}
}
