// Package logwriter takes the write system call of a log line off the
// request path.
//
// A Writer copies each line into memory and returns; a background
// goroutine writes what has gathered, a few milliseconds after the first
// line of a batch, in one write. Under load one write carries many lines
// instead of one system call per request; when idle a line still appears
// within the delay. Nothing is dropped: when the output cannot keep up and
// MaxPending bytes wait, Write blocks until they are written. Close writes
// everything that waits; writes after Close go straight to the output.
//
// Why not a library: zap's BufferedWriteSyncer holds lines until a size or
// a long interval, and zerolog's diode drops lines when its ring is full;
// neither gives "never drop, never hold a line longer than a few
// milliseconds".
package logwriter

import (
	"io"
	"sync"
	"time"
)

// MaxPending is how many bytes may wait for the output before Write
// blocks.
const MaxPending = 4 << 20

// Writer batches writes to an io.Writer. It is safe for concurrent use.
// Each Write should be whole lines (slog handlers write one record per
// call), so that batches never split a line.
type Writer struct {
	out   io.Writer
	delay time.Duration

	mu      sync.Mutex
	drained *sync.Cond // signalled when pending was taken for writing
	pending []byte
	spare   []byte
	closed  bool

	wake chan struct{} // a batch has started
	stop chan struct{}
	done chan struct{}
}

// New starts a Writer that writes to out at most delay after a batch's
// first line.
func New(out io.Writer, delay time.Duration) *Writer {
	w := &Writer{out: out, delay: delay, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	w.drained = sync.NewCond(&w.mu)
	go w.loop()
	return w
}

// Write queues p and returns at once, unless MaxPending bytes are waiting.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		defer w.mu.Unlock()
		return w.out.Write(p)
	}
	for len(w.pending) >= MaxPending && !w.closed {
		w.drained.Wait()
	}
	if w.closed {
		defer w.mu.Unlock()
		return w.out.Write(p)
	}
	first := len(w.pending) == 0
	w.pending = append(w.pending, p...)
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Close writes what waits and stops the background goroutine. It returns
// the last write's error, if any.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.drained.Broadcast()
	_, err := w.writePending()
	return err
}

func (w *Writer) loop() {
	defer close(w.done)
	t := time.NewTimer(w.delay)
	t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-w.wake:
		}
		t.Reset(w.delay)
		select {
		case <-w.stop:
			t.Stop()
			return
		case <-t.C:
		}
		w.flush()
	}
}

// flush writes the pending bytes outside the lock, so that Write never
// waits for the output while a batch is written.
func (w *Writer) flush() {
	w.mu.Lock()
	b := w.pending
	w.pending = w.spare[:0]
	w.drained.Broadcast()
	w.mu.Unlock()
	if len(b) == 0 {
		return
	}
	_, _ = w.out.Write(b) // like slog's own writes: a log write error has nowhere to go
	w.mu.Lock()
	if cap(b) <= 1<<20 { // keep a moderate buffer for the next batch
		w.spare = b[:0]
	} else {
		w.spare = nil
	}
	w.mu.Unlock()
}

// writePending writes what waits; w.mu is held.
func (w *Writer) writePending() (int, error) {
	if len(w.pending) == 0 {
		return 0, nil
	}
	n, err := w.out.Write(w.pending)
	w.pending = nil
	return n, err
}
