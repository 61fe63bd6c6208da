package usage

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// WriterOptions tunes a Writer; zero fields take the defaults.
type WriterOptions struct {
	// QueueSize is how many records wait for the store (65,536). A record
	// that finds the queue full is dropped and counted.
	QueueSize int
	// BatchSize is the most records one Store.Write gets (4,096: a Write
	// has a fixed cost, about 300 µs in the SQLite store, that larger
	// batches spread).
	BatchSize int
	// FlushInterval is the longest a record waits in a partial batch
	// (2 s; a partial batch is written every half FlushInterval). A
	// Write has a fixed cost (about 1 ms of CPU in the SQLite store:
	// rollup upserts, commit, fsync) that a one-core gateway pays between
	// calls, so fewer writes delay fewer calls. (LiteLLM batches its
	// spend log writes too: proxy_batch_write_at, in seconds.)
	FlushInterval time.Duration
	// Retries is how many times a failed Write is tried again (3) before
	// its batch is counted as dropped; RetryBackoff is the first wait
	// between tries (100 ms), doubled each time.
	Retries      int
	RetryBackoff time.Duration
	// WriteTimeout bounds one Write attempt (30 s).
	WriteTimeout time.Duration

	// Retention, when positive, prunes records and rollups older than
	// Retention (general_settings.spend_logs_retention) once at start and
	// then every PruneInterval (1 h).
	Retention     time.Duration
	PruneInterval time.Duration
	// Now is the clock Prune's cutoff is taken from (time.Now).
	Now func() time.Time

	// Logger receives the drop and failure lines (slog.Default()); at most
	// one drop line per LogInterval (1 min). A line names counts, request
	// ids and errors, never a record's contents.
	Logger      *slog.Logger
	LogInterval time.Duration
	// OnDrop, when set, is called (off the request path, from the writer's
	// goroutine) with the records dropped since the last call and why:
	// "queue_full", "write_failed" or "closed". Wire it to a counter
	// (gateway_usage_dropped_total{reason}), or read Stats instead.
	OnDrop func(reason string, n int)
}

func (o *WriterOptions) defaults() {
	if o.QueueSize <= 0 {
		o.QueueSize = 65536
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 4096
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 2 * time.Second
	}
	if o.Retries < 0 {
		o.Retries = 0
	} else if o.Retries == 0 {
		o.Retries = 3
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 100 * time.Millisecond
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 30 * time.Second
	}
	if o.PruneInterval <= 0 {
		o.PruneInterval = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LogInterval <= 0 {
		o.LogInterval = time.Minute
	}
}

// WriterStats are a Writer's counters since it started.
type WriterStats struct {
	Queued      int    // records waiting now
	Written     uint64 // records the store acknowledged
	DroppedFull uint64 // dropped because the queue was full
	// DroppedFailed were in batches whose Write failed every try.
	DroppedFailed uint64
	// DroppedClosed arrived after Close, or were still queued when
	// Close's context ended.
	DroppedClosed uint64
	Pruned        uint64 // records Prune deleted
}

// Dropped is every record dropped, whatever the reason.
func (s WriterStats) Dropped() uint64 { return s.DroppedFull + s.DroppedFailed + s.DroppedClosed }

// Writer batches Records into a Store off the request path.
//
// Record copies the record into a pending slice under a mutex: no channel
// send, no allocation (once the slice has grown to the traffic) and no
// wake-up of the writer goroutine, except one non-blocking kick when the
// pending records reach a batch. The writer goroutine wakes on that kick,
// on a ticker (half FlushInterval), on the log ticker and on Close; it
// swaps the pending slice with its spare one (double buffering: steady
// state allocates nothing) and writes what it took in batches. A kick
// takes whole batches only (the few records that arrived since stay
// pending, so steady traffic is written in full batches); a tick takes
// everything once records have waited a tick, and Close everything.
type Writer struct {
	store Store
	opts  WriterOptions

	// Guarded by mu.
	mu      sync.Mutex
	pending []Record // not yet taken by the writer goroutine, oldest first
	// taken are the records the writer goroutine took from pending but has
	// not yet handed to Store.Write: they still count against QueueSize.
	taken  int
	closed bool // set by Close: Record drops and counts "closed"

	// Set by NewWriter.
	kickAt  int           // the pending count that kicks: BatchSize, or QueueSize when smaller
	kick    chan struct{} // capacity 1: one wake-up per batch
	initCap int           // the buffers' capacity at start, and after a spike

	// The writer goroutine's own.
	spare      []Record  // the other buffer, empty
	lastBig    time.Time // when it last took more than initCap records
	takenTotal uint64    // records taken from pending so far

	stop      chan struct{}   // closed by Close: drain and exit
	abort     chan struct{}   // closed when Close's context ends: stop now
	abortCtx  context.Context // done with abort: cancels a Write in flight
	done      chan struct{}   // closed when the writer goroutine exits
	pruneDone chan struct{}
	once      sync.Once

	written, droppedFull, droppedFailed, droppedClosed, pruned atomic.Uint64
	reported                                                   [3]uint64 // what OnDrop was told, per reason
	lastFullLog                                                time.Time
	loggedFull                                                 uint64
}

// NewWriter starts a Writer on store. Close it to flush.
func NewWriter(store Store, opts WriterOptions) *Writer {
	opts.defaults()
	w := &Writer{
		store:     store,
		opts:      opts,
		kickAt:    min(opts.BatchSize, opts.QueueSize),
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		abort:     make(chan struct{}),
		done:      make(chan struct{}),
		pruneDone: make(chan struct{}),
	}
	// The buffers start small and grow with the traffic (to a batch and
	// the records that arrive before the writer goroutine takes it): they
	// hold pointers, so every GC cycle scans them whole, and two buffers
	// of 2*BatchSize records (6 MB) made each cycle long enough to delay
	// calls on a one-core gateway.
	w.initCap = min(opts.QueueSize, 2*opts.BatchSize, initialBuffer)
	w.pending = make([]Record, 0, w.initCap)
	w.spare = make([]Record, 0, w.initCap)
	var cancel context.CancelFunc
	w.abortCtx, cancel = context.WithCancel(context.Background())
	go func() {
		select {
		case <-w.abort:
			cancel()
		case <-w.done:
			cancel()
		}
	}()
	go w.run()
	if opts.Retention > 0 {
		go w.pruneLoop()
	} else {
		close(w.pruneDone)
	}
	return w
}

// Record queues a copy of *r for the store and returns at once: it never
// blocks and never fails. r itself is not kept: the caller may build it on
// its stack or reuse it once Record returns, but the Tags and Metadata it
// refers to are kept (their contents must not change). When the queue is
// full, or after Close, the record is dropped and counted.
func (w *Writer) Record(r *Record) {
	if r == nil {
		return
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.droppedClosed.Add(1)
		return
	}
	if len(w.pending)+w.taken >= w.opts.QueueSize {
		w.mu.Unlock()
		w.droppedFull.Add(1)
		return
	}
	w.pending = append(w.pending, *r)
	n := len(w.pending)
	w.mu.Unlock()
	if n == w.kickAt {
		select {
		case w.kick <- struct{}{}:
		default: // a kick is already waiting
		}
	}
}

// Stats are the counters now.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	queued := len(w.pending) + w.taken
	w.mu.Unlock()
	return WriterStats{
		Queued:        queued,
		Written:       w.written.Load(),
		DroppedFull:   w.droppedFull.Load(),
		DroppedFailed: w.droppedFailed.Load(),
		DroppedClosed: w.droppedClosed.Load(),
		Pruned:        w.pruned.Load(),
	}
}

// Close stops taking records, writes every queued one and waits for the
// last Write (and a running Prune). If ctx ends first, what is still
// queued is dropped (counted) and ctx's error returned. A running Prune
// is cancelled. Close does not close the store.
func (w *Writer) Close(ctx context.Context) error {
	w.once.Do(func() {
		// Under mu: a Record either landed in pending before this (and the
		// drain takes it) or sees closed.
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		close(w.stop)
	})
	select {
	case <-w.done:
	case <-ctx.Done():
		select {
		case <-w.abort:
		default:
			close(w.abort)
		}
		<-w.done
		<-w.pruneDone
		return ctx.Err()
	}
	<-w.pruneDone
	return nil
}

func (w *Writer) run() {
	defer close(w.done)
	// Every half FlushInterval, records that were already pending at the
	// previous tick are written (full batch or not): none waits longer
	// than FlushInterval, and under steady traffic, where kicks take
	// everything in time, no partial batch is written.
	tick := time.NewTicker(max(w.opts.FlushInterval/2, 1))
	defer tick.Stop()
	logTick := time.NewTicker(w.opts.LogInterval)
	defer logTick.Stop()
	var tickTaken uint64 // w.takenTotal at the previous tick
	tickPending := 0     // len(w.pending) at the previous tick
	for {
		select {
		case <-w.kick:
			w.flush(false)
		case <-tick.C:
			// pending is first in, first out: the records pending at the
			// previous tick are gone once that many have been taken since.
			if w.takenTotal-tickTaken < uint64(tickPending) {
				w.flush(true)
			}
			tickTaken = w.takenTotal
			w.mu.Lock()
			tickPending = len(w.pending)
			w.mu.Unlock()
			w.reportDrops()
		case <-logTick.C:
			w.reportDrops()
		case <-w.stop:
			// Close set closed before stop: this takes the last records
			// (in batches of at most BatchSize, unless Close's context ends
			// first).
			w.flush(true)
			w.reportDrops()
			return
		}
	}
}

// take takes records from pending, oldest first, swapping the pending
// slice with the spare one: every record when all is set (a tick, Close),
// else only whole batches (a kick); what is left (fewer than BatchSize
// records, the newest) is copied to the front of the new pending slice.
// It returns the old pending slice and how many records of it were taken.
func (w *Writer) take(all bool) ([]Record, int) {
	w.mu.Lock()
	recs := w.pending
	n := len(recs)
	if !all {
		switch {
		case n >= w.opts.BatchSize:
			n -= n % w.opts.BatchSize
		case n < w.kickAt:
			n = 0 // a kick for records a tick already took
		}
		// else QueueSize < BatchSize: the queue's worth, all of it
	}
	if n == 0 {
		w.mu.Unlock()
		return nil, 0
	}
	w.pending = append(w.spare[:0], recs[n:]...)
	w.taken = n
	w.mu.Unlock()
	w.spare = nil
	w.takenTotal += uint64(n)
	return recs, n
}

// flush takes pending records (see take) and writes them in batches of at
// most BatchSize. Once Close's context has ended, what is left is dropped
// and counted "closed". Only the writer goroutine calls it.
func (w *Writer) flush(all bool) {
	buf, n := w.take(all)
	if n == 0 {
		return
	}
	recs := buf[:n]
	for i := 0; i < len(recs); {
		select {
		case <-w.abort:
			w.mu.Lock()
			w.taken = 0
			w.mu.Unlock()
			w.droppedClosed.Add(uint64(len(recs) - i))
			i = len(recs)
			continue
		default:
		}
		batch := recs[i:min(i+w.opts.BatchSize, len(recs))]
		i += len(batch)
		w.mu.Lock()
		w.taken -= len(batch)
		w.mu.Unlock()
		w.write(batch)
		w.reportDrops()
	}

	clear(buf) // drop references (tags, metadata) for the GC, the copied rest's too
	now := time.Now()
	if len(buf) > w.initCap {
		w.lastBig = now
	}
	if cap(buf) > 4*w.initCap && now.Sub(w.lastBig) >= shrinkAfter {
		// A spike is long over: give its memory back.
		w.spare = make([]Record, 0, w.initCap)
	} else {
		w.spare = buf[:0]
	}
}

// initialBuffer is the buffers' capacity at start, in records: about
// 250 ms of 1,000 calls/s.
const initialBuffer = 256

// shrinkAfter is how long the writer goroutine takes no more than the
// buffers' initial capacity before it lets a grown buffer go.
const shrinkAfter = time.Minute

// write stores one batch, trying again on failure.
func (w *Writer) write(batch []Record) {
	backoff := w.opts.RetryBackoff
	var err error
	for try := 0; try <= w.opts.Retries; try++ {
		if try > 0 {
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-w.abort:
				t.Stop()
				try = w.opts.Retries // no more tries
				continue
			}
			backoff *= 2
		}
		ctx, cancel := context.WithTimeout(w.abortCtx, w.opts.WriteTimeout)
		err = w.store.Write(ctx, batch)
		cancel()
		if err == nil {
			w.written.Add(uint64(len(batch)))
			return
		}
		select {
		case <-w.abort:
			try = w.opts.Retries
		default:
		}
	}
	w.droppedFailed.Add(uint64(len(batch)))
	w.opts.Logger.Error("usage: a batch of records could not be written and was dropped",
		"records", len(batch), "first_request_id", batch[0].RequestID, "last_request_id", batch[len(batch)-1].RequestID,
		"tries", w.opts.Retries+1, "error", err)
}

// reportDrops tells OnDrop of new drops and logs full-queue drops at most
// once per LogInterval. Only the writer goroutine calls it.
func (w *Writer) reportDrops() {
	counts := [3]uint64{w.droppedFull.Load(), w.droppedFailed.Load(), w.droppedClosed.Load()}
	if w.opts.OnDrop != nil {
		for i, reason := range [3]string{"queue_full", "write_failed", "closed"} {
			if d := counts[i] - w.reported[i]; d > 0 {
				w.opts.OnDrop(reason, int(d))
			}
		}
	}
	w.reported = counts
	if d := counts[0] - w.loggedFull; d > 0 {
		now := time.Now()
		if w.lastFullLog.IsZero() || now.Sub(w.lastFullLog) >= w.opts.LogInterval {
			w.opts.Logger.Warn("usage: the record queue was full; records were dropped (the store is slower than the traffic)",
				"dropped", d, "dropped_total", counts[0], "queue_size", w.opts.QueueSize)
			w.lastFullLog = now
			w.loggedFull = counts[0]
		}
	}
}

// Prune deletes what is older than the retention now (Now minus
// Retention); it is what the retention loop calls.
func (w *Writer) Prune(ctx context.Context) (int64, error) {
	if w.opts.Retention <= 0 {
		return 0, errors.New("usage: no retention set")
	}
	n, err := w.store.Prune(ctx, w.opts.Now().Add(-w.opts.Retention))
	if n > 0 {
		w.pruned.Add(uint64(n))
	}
	return n, err
}

func (w *Writer) pruneLoop() {
	defer close(w.pruneDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-w.stop:
		case <-w.done:
		}
		cancel()
	}()
	t := time.NewTicker(w.opts.PruneInterval)
	defer t.Stop()
	for {
		n, err := w.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			w.opts.Logger.Error("usage: pruning old records failed; will try again", "error", err, "next_in", w.opts.PruneInterval)
		case n > 0:
			w.opts.Logger.Info("usage: pruned records past the retention", "records", n, "retention", w.opts.Retention)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}
