package providers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/wire"
)

// maxEvent caps one event's data, so a broken upstream cannot exhaust memory.
const maxEvent = 16 << 20

var (
	errStreamClosed = errors.New("stream closed")
	errEventTooBig  = errors.New("event larger than 16 MiB")
	errEventNotJSON = errors.New("event data is not a JSON object")
	doneMarker      = []byte("[DONE]")
	errorKey        = []byte(`"error"`)
)

// sseStream reads server-sent events from an upstream body. It hands out
// each event as soon as its terminating blank line has arrived; it never
// waits for more than the current event.
type sseStream struct {
	body    io.Reader
	r       *bufio.Reader
	data    []byte // the current event's data, reused
	line    []byte // a line longer than r's buffer, reused
	err     error  // sticky
	mapErr  func(error) error
	endErr  func() error // optional: why a clean-looking end was not one
	release func()
	// key is the upstream key to scrub from error events (the upstream
	// may echo it, as in "Incorrect API key provided: ...").
	key string

	closed    atomic.Bool
	sawDone   atomic.Bool // Next returned the upstream's [DONE]
	closeOnce sync.Once
}

// After [DONE] an upstream's chunked body still has its last chunk to
// send. Close reads it off the connection so that the connection goes back
// to the pool (a body not read to its end closes the connection, and the
// next stream pays a new TCP and TLS handshake). The read runs after the
// client has its last event, bounded in bytes and time.
const (
	maxDrain     = 64 << 10
	drainTimeout = time.Second
)

var errNotDrained = errors.New("the upstream did not end its body after [DONE]")

// NewSSEStream returns a Stream parsing server-sent events from body.
// mapErr turns a read error into the error Next returns; release runs once
// on Close, after body was closed (if it is a fasthttp.ReadCloserWithError).
// Close may run concurrently with a blocked Next, which then fails.
func NewSSEStream(body io.Reader, release func(), mapErr func(error) error) Stream {
	return newSSEStream(body, release, mapErr)
}

func newSSEStream(body io.Reader, release func(), mapErr func(error) error) *sseStream {
	if mapErr == nil {
		mapErr = func(err error) error { return err }
	}
	return &sseStream{body: body, r: bufio.NewReaderSize(body, 8<<10), mapErr: mapErr, release: release}
}

// Next returns the data of the next event; io.EOF after "[DONE]" or the end.
func (s *sseStream) Next() ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.data = s.data[:0]
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			if s.closed.Load() {
				err = errStreamClosed
			}
			if err == io.EOF && s.endErr != nil {
				if e := s.endErr(); e != nil {
					err = e
				}
			}
			if err != io.EOF {
				s.err = s.mapErr(err)
				return nil, s.err
			}
			// A clean end; a last event without its blank line still counts.
			if hasData {
				return s.dispatch()
			}
			s.err = io.EOF
			return nil, io.EOF
		}
		switch {
		case len(line) == 0: // end of event
			if hasData {
				return s.dispatch()
			}
		case line[0] == ':': // comment, e.g. a keep-alive
		default:
			field, value, _ := bytes.Cut(line, []byte{':'})
			if string(field) != "data" {
				continue // event:, id:, retry: carry nothing we forward
			}
			value, _ = bytes.CutPrefix(value, []byte{' '})
			if hasData {
				s.data = append(s.data, '\n')
			}
			if len(s.data)+len(value) > maxEvent {
				s.err = s.mapErr(errEventTooBig)
				return nil, s.err
			}
			s.data = append(s.data, value...)
			hasData = true
		}
	}
}

// Ready reports whether a whole event with data (or the stream's end) is
// already buffered, so that Next will not read. Data still in the
// connection's own buffer is not seen, so it may say false when Next would
// not wait: that only costs a write.
func (s *sseStream) Ready() bool {
	if s.err != nil {
		return true
	}
	b, _ := s.r.Peek(s.r.Buffered())
	hasData := false
	for {
		line, rest, ok := bytes.Cut(b, []byte{'\n'})
		if !ok {
			return false // an incomplete line
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		switch {
		case len(line) == 0:
			if hasData {
				return true
			}
		case bytes.HasPrefix(line, []byte("data")):
			hasData = true
		}
		b = rest
	}
}

func (s *sseStream) dispatch() ([]byte, error) {
	if bytes.Equal(s.data, doneMarker) {
		s.err = io.EOF
		s.sawDone.Store(true)
		return nil, io.EOF
	}
	// Every event the gateway relays is a JSON object: anything else would
	// reach the client as a broken chunk (and be rewritten into other
	// broken JSON). The stream ends with an error instead.
	if !isJSONObject(s.data) {
		// Scrub what the log quotes of it; a prefix long enough that no
		// copy of the key starting in the quoted part is cut.
		head := s.data[:min(len(s.data), 64+4*len(s.key))]
		s.err = s.mapErr(fmt.Errorf("%w: %q", errEventNotJSON, truncate(Scrub(s.key, string(head)), 64)))
		return nil, s.err
	}
	// An error event may echo the upstream key: only events that can be
	// one pay for the scrub.
	if s.key != "" && bytes.Contains(s.data, errorKey) {
		if out := Scrub(s.key, wire.View(s.data)); out != wire.View(s.data) {
			s.data = append(s.data[:0], out...)
		}
	}
	return s.data, nil
}

// isJSONObject reports whether data is one valid JSON object (spaces
// around it allowed).
func isJSONObject(data []byte) bool {
	i := 0
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n') {
		i++
	}
	return i < len(data) && data[i] == '{' && gjson.ValidBytes(data)
}

// readLine returns the next line without its "\n" or "\r\n". A last line
// without a newline is returned before io.EOF.
func (s *sseStream) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.line = append(s.line[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(s.line) > maxEvent {
				return nil, errEventTooBig
			}
			line, err = s.r.ReadSlice('\n')
			s.line = append(s.line, line...)
		}
		line = s.line
	}
	if err != nil && (err != io.EOF || len(line) == 0) {
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, nil
}

// Close aborts an unfinished upstream response and releases it. A stream
// that ended with [DONE] is drained first, on its own goroutine (see
// maxDrain), so its connection can be reused.
func (s *sseStream) Close() {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if c, ok := s.body.(fasthttp.ReadCloserWithError); ok && s.sawDone.Load() {
			go s.drainAndRelease(c)
			return
		}
		if c, ok := s.body.(fasthttp.ReadCloserWithError); ok {
			// Unblocks a pending Read; keeps the connection only when the
			// body was read to its end.
			_ = c.CloseWithError(nil)
		}
		if s.release != nil {
			s.release()
		}
	})
}

// drainAndRelease reads what is left of a body after [DONE] and releases
// it: to the pool when the body ended, closing the connection otherwise.
func (s *sseStream) drainAndRelease(c fasthttp.ReadCloserWithError) {
	stop := time.AfterFunc(drainTimeout, func() { _ = c.CloseWithError(errNotDrained) })
	n, err := io.CopyN(io.Discard, s.r, maxDrain)
	stop.Stop()
	if err != io.EOF || n == maxDrain {
		_ = c.CloseWithError(errNotDrained) // closes the connection (a no-op after the timeout's)
	} else {
		_ = c.CloseWithError(nil) // read to its end: back to the pool
	}
	if s.release != nil {
		s.release()
	}
}
