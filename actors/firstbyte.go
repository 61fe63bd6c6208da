package actors

import (
	"io"
	"strconv"
	"time"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

// firstEvent waits for s's first event for at most d (router_settings.
// stream_first_byte_timeout; 0: no wait, s as it is). A stream that has
// not started in time is closed and its attempt fails with a 504, which
// the router retries or falls back from, before anything reached the
// client. A stream that started is returned with its first event
// replayed.
func firstEvent(s providers.Stream, d time.Duration, model string) (providers.Stream, error) {
	if d <= 0 {
		return s, nil
	}
	t := time.AfterFunc(d, s.Close) // Close makes a waiting Next fail
	data, err := s.Next()
	if !t.Stop() {
		s.Close()
		return nil, &wire.Error{Status: 504, Type: wire.TypeTimeout,
			Message: "the stream of model " + strconv.Quote(model) + " did not start within " + d.String() +
				" (router_settings.stream_first_byte_timeout)"}
	}
	if err != nil && err != io.EOF {
		s.Close()
		return nil, err
	}
	return &replayFirst{Stream: s, first: append([]byte(nil), data...), err: err}, nil
}

// replayFirst is a stream whose first event was read already.
type replayFirst struct {
	providers.Stream
	first []byte
	err   error // the first Next's error (io.EOF: an empty stream)
	done  bool
}

func (r *replayFirst) Next() ([]byte, error) {
	if !r.done {
		r.done = true
		if r.err != nil {
			return nil, r.err
		}
		return r.first, nil
	}
	return r.Stream.Next()
}

func (r *replayFirst) Ready() bool { return !r.done || r.Stream.Ready() }
