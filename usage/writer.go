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
	// BatchSize is the most records one Store.Write gets (1,000).
	BatchSize int
	// FlushInterval is the longest a record waits in a partial batch
	// (500 ms).
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
		o.BatchSize = 1000
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 500 * time.Millisecond
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
type Writer struct {
	store Store
	opts  WriterOptions
	q     chan *Record

	closing   atomic.Bool
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
		q:         make(chan *Record, opts.QueueSize),
		stop:      make(chan struct{}),
		abort:     make(chan struct{}),
		done:      make(chan struct{}),
		pruneDone: make(chan struct{}),
	}
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

// Record queues r for the store and returns at once: it never blocks and
// never fails. The Writer owns r from then on (the caller must not change
// it). When the queue is full, or after Close, r is dropped and counted.
func (w *Writer) Record(r *Record) {
	if r == nil {
		return
	}
	if w.closing.Load() {
		w.droppedClosed.Add(1)
		return
	}
	select {
	case w.q <- r:
	default:
		w.droppedFull.Add(1)
	}
}

// Stats are the counters now.
func (w *Writer) Stats() WriterStats {
	return WriterStats{
		Queued:        len(w.q),
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
		w.closing.Store(true)
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
	batch := make([]Record, 0, w.opts.BatchSize)
	flush := time.NewTimer(time.Hour)
	flush.Stop()
	logTick := time.NewTicker(w.opts.LogInterval)
	defer logTick.Stop()
	armed := false
	write := func() {
		if len(batch) > 0 {
			w.write(batch)
			clear(batch) // drop references (tags, metadata) for the GC
			batch = batch[:0]
		}
		if armed {
			flush.Stop()
			armed = false
		}
		w.reportDrops()
	}
	for {
		select {
		case r := <-w.q:
			batch = append(batch, *r)
			if len(batch) >= w.opts.BatchSize {
				write()
			} else if !armed {
				flush.Reset(w.opts.FlushInterval)
				armed = true
			}
		case <-flush.C:
			armed = false
			write()
		case <-logTick.C:
			w.reportDrops()
		case <-w.stop:
			// Drain: everything queued before Close, in full batches,
			// unless Close's context ends first.
			for {
				select {
				case <-w.abort:
					n := len(batch)
					for range len(w.q) {
						<-w.q
						n++
					}
					clear(batch)
					w.droppedClosed.Add(uint64(n))
					w.reportDrops()
					return
				default:
				}
				select {
				case r := <-w.q:
					batch = append(batch, *r)
					if len(batch) >= w.opts.BatchSize {
						write()
					}
					continue
				default:
				}
				break
			}
			write()
			w.reportDrops()
			return
		}
	}
}

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
