// Package fakebedrock is a fake Amazon Bedrock runtime (Converse,
// ConverseStream, InvokeModel for Titan and Cohere embeddings) and STS
// (AssumeRole) on 127.0.0.1, for tests. It verifies every request's
// SigV4 signature with the secret of its access key, validates request
// bodies as Bedrock does, and fails on demand.
package fakebedrock

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// Failure is an answer on demand: the next Count calls (1 when 0) to
// Bedrock (not STS) fail with Status and Type ("ThrottlingException"),
// Message, and RetryAfter seconds (0: no header). MidStream makes a
// ConverseStream call fail after its first text delta with an exception
// frame of Type instead ("throttlingException", ...).
type Failure struct {
	Status     int
	Type       string
	Message    string
	RetryAfter int
	MidStream  bool
	Count      int
}

// Request is a call the fake received and accepted.
type Request struct {
	Path   string // as sent (escaped)
	KeyID  string
	Body   []byte
	Stream bool
}

// Server is a running fake.
type Server struct {
	URL    string
	Region string

	srv *httptest.Server

	mu       sync.Mutex
	keys     map[string]key    // access key id -> secret (+ token)
	roles    map[string]string // role ARN -> the key id allowed to assume it
	fails    []Failure
	requests []Request
	stsCalls int
	now      func() time.Time
}

type key struct {
	secret, token string
	expires       time.Time // zero: never
}

// New starts a fake for region on 127.0.0.1; t.Cleanup(s.Close).
func New(region string) *Server {
	s := &Server{Region: region, keys: map[string]key{}, roles: map[string]string{}, now: time.Now}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// AddKey accepts an access key with its secret (and, for temporary
// credentials, the session token it must come with).
func (s *Server) AddKey(id, secret, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[id] = key{secret: secret, token: token}
}

// AddRole lets the access key sourceKeyID assume roleARN.
func (s *Server) AddRole(roleARN, sourceKeyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[roleARN] = sourceKeyID
}

// Fail queues a failure.
func (s *Server) Fail(f Failure) {
	if f.Count == 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, f)
}

// Requests returns the accepted Bedrock calls so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// STSCalls is the number of AssumeRole calls answered.
func (s *Server) STSCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stsCalls
}

func (s *Server) secretOf(id string) (string, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok || (!k.expires.IsZero() && s.now().After(k.expires)) {
		return "", "", false
	}
	return k.secret, k.token, true
}

func (s *Server) nextFailure() (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fails) == 0 {
		return Failure{}, false
	}
	f := s.fails[0]
	if f.Count--; f.Count <= 0 {
		s.fails = s.fails[1:]
	} else {
		s.fails[0] = f
	}
	return f, true
}

// awsError answers a Bedrock (restJson1) error.
func awsError(w http.ResponseWriter, status int, typ, msg string, retryAfter int) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", typ+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	w.Header().Set("X-Amzn-Requestid", newID())
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": msg})
	_, _ = w.Write(b)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		awsError(w, 400, "ValidationException", "could not read the body", 0)
		return
	}
	if r.Method == http.MethodPost && (r.URL.Path == "/" || r.URL.Path == "") {
		s.serveSTS(w, r, body)
		return
	}
	if r.Method != http.MethodPost {
		awsError(w, 404, "UnknownOperationException", "unknown operation", 0)
		return
	}
	keyID, serr := verify(r, body, "bedrock", s.Region, s.now(), s.secretOf)
	if serr != nil {
		awsError(w, serr.status, serr.typ, serr.msg, 0)
		return
	}
	// /model/{modelId}/{op}, modelId escaped.
	rawPath, _, _ := strings.Cut(r.RequestURI, "?")
	rest, ok := strings.CutPrefix(rawPath, "/model/")
	if !ok {
		awsError(w, 404, "UnknownOperationException", "unknown operation", 0)
		return
	}
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		awsError(w, 404, "UnknownOperationException", "unknown operation", 0)
		return
	}
	model, err := url.PathUnescape(rest[:i])
	if err != nil || strings.Contains(rest[:i], ":") {
		// A ':' sent unescaped is a different path at AWS.
		awsError(w, 400, "ValidationException", "the model id in the path is not escaped", 0)
		return
	}
	op := rest[i+1:]
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		awsError(w, 415, "UnsupportedMediaTypeException", "Content-Type must be application/json", 0)
		return
	}
	if f, ok := s.nextFailure(); ok && !(f.MidStream && op == "converse-stream") {
		awsError(w, f.Status, f.Type, f.Message, f.RetryAfter)
		return
	} else if ok {
		s.record(Request{Path: rawPath, KeyID: keyID, Body: body, Stream: true})
		s.converse(w, model, body, true, &f)
		return
	}
	switch op {
	case "converse", "converse-stream":
		s.record(Request{Path: rawPath, KeyID: keyID, Body: body, Stream: op == "converse-stream"})
		s.converse(w, model, body, op == "converse-stream", nil)
	case "invoke":
		s.record(Request{Path: rawPath, KeyID: keyID, Body: body})
		s.invoke(w, model, body)
	default:
		awsError(w, 404, "UnknownOperationException", "unknown operation "+op, 0)
	}
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
}

// serveSTS answers AssumeRole (the Query protocol; XML answers).
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request, body []byte) {
	stsError := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			code, xmlEscape(msg), newID())
	}
	keyID, serr := verify(r, body, "sts", s.Region, s.now(), s.secretOf)
	if serr != nil {
		code := serr.typ
		if code == "UnrecognizedClientException" {
			code = "InvalidClientTokenId"
		} else if code == "InvalidSignatureException" {
			code = "SignatureDoesNotMatch"
		}
		stsError(serr.status, code, serr.msg)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("Action") != "AssumeRole" || form.Get("Version") != "2011-06-15" {
		stsError(400, "InvalidAction", "Could not find operation "+form.Get("Action")+" for version "+form.Get("Version"))
		return
	}
	role, session := form.Get("RoleArn"), form.Get("RoleSessionName")
	if role == "" || session == "" || len(session) < 2 || len(session) > 64 {
		stsError(400, "ValidationError", "RoleArn and a RoleSessionName of 2 to 64 characters are required")
		return
	}
	s.mu.Lock()
	src, ok := s.roles[role]
	if !ok || src != keyID {
		s.mu.Unlock()
		stsError(403, "AccessDenied", "User: "+keyID+" is not authorized to perform: sts:AssumeRole on resource: "+role)
		return
	}
	dur := time.Hour
	if d, err := strconv.Atoi(form.Get("DurationSeconds")); err == nil && d > 0 {
		dur = time.Duration(d) * time.Second
	}
	id := "ASIA" + strings.ToUpper(newID()[:16])
	k := key{secret: newID() + newID()[:8], token: "FwoGZXIvYXdzE" + newID() + newID(), expires: s.now().Add(dur)}
	s.keys[id] = k
	s.stsCalls++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser><AssumedRoleId>AROA3XFRBF535PLBIFPI4:%s</AssumedRoleId><Arn>%s/%s</Arn></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>%s</AccessKeyId>
      <SecretAccessKey>%s</SecretAccessKey>
      <SessionToken>%s</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>
</AssumeRoleResponse>`, xmlEscape(session), xmlEscape(role), xmlEscape(session), id, k.secret, k.token,
		k.expires.UTC().Format(time.RFC3339), newID())
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xmlEscapeTo(&b, s)
	return b.String()
}

func xmlEscapeTo(b *bytes.Buffer, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	_, err := r.WriteString(b, s)
	return err
}

// writeEvent writes one event-stream frame.
func writeEvent(w io.Writer, enc *eventstream.Encoder, typ string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	var h eventstream.Headers
	h.Set(":event-type", eventstream.StringValue(typ))
	h.Set(":content-type", eventstream.StringValue("application/json"))
	h.Set(":message-type", eventstream.StringValue("event"))
	return enc.Encode(w, eventstream.Message{Headers: h, Payload: b})
}

// writeException writes an exception frame.
func writeException(w io.Writer, enc *eventstream.Encoder, typ, msg string) error {
	b, _ := json.Marshal(map[string]string{"message": msg})
	var h eventstream.Headers
	h.Set(":exception-type", eventstream.StringValue(typ))
	h.Set(":content-type", eventstream.StringValue("application/json"))
	h.Set(":message-type", eventstream.StringValue("exception"))
	return enc.Encode(w, eventstream.Message{Headers: h, Payload: b})
}
