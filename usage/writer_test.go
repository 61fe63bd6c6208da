package usage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeStore records what the Writer gives it.
type fakeStore struct {
	mu      sync.Mutex
	batches [][]Record
	ids     map[string]int
	write   func(ctx context.Context, batch []Record) error // optional hook, called first
	prunes  []time.Time
}

func (f *fakeStore) Write(ctx context.Context, batch []Record) error {
	if f.write != nil {
		if err := f.write(ctx, batch); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids == nil {
		f.ids = map[string]int{}
	}
	f.batches = append(f.batches, append([]Record(nil), batch...))
	for _, r := range batch {
		f.ids[r.RequestID]++
	}
	return nil
}

func (f *fakeStore) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ids)
}

func (f *fakeStore) Logs(context.Context, LogQuery) (LogPage, error) { return LogPage{}, nil }
func (f *fakeStore) Activity(context.Context, ActivityQuery) (Activity, error) {
	return Activity{}, nil
}
func (f *fakeStore) Report(context.Context, ReportQuery) ([]ReportDay, error) { return nil, nil }
func (f *fakeStore) Totals(context.Context, TotalsQuery) (Metrics, error)     { return Metrics{}, nil }
func (f *fakeStore) Close() error                                             { return nil }
func (f *fakeStore) Prune(_ context.Context, before time.Time) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prunes = append(f.prunes, before)
	return 1, nil
}

// logBuf is a concurrency-safe slog sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLogger() (*slog.Logger, *logBuf) {
	b := new(logBuf)
	return slog.New(slog.NewTextHandler(b, nil)), b
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func testRecord(i int) *Record {
	return &Record{RequestID: fmt.Sprintf("req-%d", i), Start: time.Unix(1700000000+int64(i), 0), TeamID: "t",
		KeyID: "secret-looking-key-hash", Tags: []string{"tag-content"}, Metadata: []byte(`{"m":"metadata-content"}`)}
}

func TestWriterFullQueueNeverBlocks(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	store := &fakeStore{write: func(context.Context, []Record) error { <-release; return nil }}
	var dropMu sync.Mutex
	drops := map[string]int{}
	log, logs := newLogger()
	w := NewWriter(store, WriterOptions{
		QueueSize: 10, BatchSize: 5, FlushInterval: time.Millisecond, Logger: log, LogInterval: time.Hour,
		OnDrop: func(reason string, n int) { dropMu.Lock(); drops[reason] += n; dropMu.Unlock() },
	})
	done := make(chan struct{})
	go func() {
		for i := range 1000 {
			w.Record(testRecord(i))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Record blocked on a full queue")
	}
	st := w.Stats()
	// At most one batch in the store's hands plus a full queue are kept.
	if kept := 1000 - int(st.DroppedFull); kept > 10+5 || kept < 10 {
		t.Errorf("dropped %d of 1000 with a queue of 10 and a batch of 5 (stats %+v)", st.DroppedFull, st)
	}
	close(release)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st = w.Stats()
	if got := store.count(); uint64(got) != st.Written || got+int(st.Dropped()) != 1000 {
		t.Errorf("written %d (store has %d) + dropped %d != 1000", st.Written, got, st.Dropped())
	}
	dropMu.Lock()
	if drops["queue_full"] != int(st.DroppedFull) {
		t.Errorf("OnDrop was told %v, stats say %d", drops, st.DroppedFull)
	}
	dropMu.Unlock()
	if n := strings.Count(logs.String(), "queue was full"); n != 1 {
		t.Errorf("%d drop log lines in one interval, want 1:\n%s", n, logs)
	}
	if strings.Contains(logs.String(), "content") || strings.Contains(logs.String(), "secret") {
		t.Errorf("the log shows a record's contents:\n%s", logs)
	}
}

func TestWriterBatchesAndFlushInterval(t *testing.T) {
	t.Parallel()
	store := &fakeStore{}
	w := NewWriter(store, WriterOptions{BatchSize: 4, FlushInterval: 20 * time.Millisecond})
	defer w.Close(context.Background())
	for i := range 10 {
		w.Record(testRecord(i))
	}
	// Two full batches go at once, the partial one after the interval.
	waitFor(t, "the partial batch", func() bool { return store.count() == 10 })
	store.mu.Lock()
	defer store.mu.Unlock()
	for _, b := range store.batches {
		if len(b) > 4 {
			t.Errorf("a batch of %d, want at most 4", len(b))
		}
	}
}

func TestWriterCloseFlushes(t *testing.T) {
	t.Parallel()
	store := &fakeStore{}
	w := NewWriter(store, WriterOptions{FlushInterval: time.Hour, BatchSize: 1000})
	for i := range 2500 {
		w.Record(testRecord(i))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := store.count(); got != 2500 {
		t.Fatalf("after Close the store has %d of 2500", got)
	}
	for _, b := range store.batches {
		if len(b) > 1000 {
			t.Errorf("a batch of %d", len(b))
		}
	}
	w.Record(testRecord(9999))
	if st := w.Stats(); st.DroppedClosed != 1 || st.Written != 2500 {
		t.Errorf("after Close: %+v", st)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestWriterCloseDeadline(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	defer close(block)
	store := &fakeStore{write: func(ctx context.Context, _ []Record) error {
		select {
		case <-block:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	w := NewWriter(store, WriterOptions{BatchSize: 1, QueueSize: 100, WriteTimeout: time.Hour})
	for i := range 50 {
		w.Record(testRecord(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := w.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want the deadline", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("Close did not return after its deadline")
	}
	if st := w.Stats(); st.Written+st.Dropped() != 50 {
		t.Errorf("written %d + dropped %d != 50", st.Written, st.Dropped())
	}
}

func TestWriterRetriesThenDrops(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	store := &fakeStore{write: func(context.Context, []Record) error {
		if calls.Add(1) <= 2 {
			return errors.New("database is locked")
		}
		return nil
	}}
	w := NewWriter(store, WriterOptions{BatchSize: 3, RetryBackoff: time.Millisecond})
	for i := range 3 {
		w.Record(testRecord(i))
	}
	waitFor(t, "the retried batch", func() bool { return store.count() == 3 })
	w.Close(context.Background())

	log, logs := newLogger()
	var dropped atomic.Int64
	failing := &fakeStore{write: func(context.Context, []Record) error { return errors.New("disk I/O error") }}
	w = NewWriter(failing, WriterOptions{BatchSize: 3, Retries: 2, RetryBackoff: time.Millisecond, Logger: log,
		OnDrop: func(reason string, n int) {
			if reason == "write_failed" {
				dropped.Add(int64(n))
			}
		}})
	for i := range 3 {
		w.Record(testRecord(i))
	}
	waitFor(t, "the failed batch", func() bool { return w.Stats().DroppedFailed == 3 })
	w.Close(context.Background())
	if dropped.Load() != 3 {
		t.Errorf("OnDrop(write_failed) told %d, want 3", dropped.Load())
	}
	out := logs.String()
	if !strings.Contains(out, "req-0") || !strings.Contains(out, "disk I/O error") || !strings.Contains(out, "records=3") {
		t.Errorf("the failure line lacks the ids, count or error:\n%s", out)
	}
	if strings.Contains(out, "content") || strings.Contains(out, "secret") {
		t.Errorf("the log shows a record's contents:\n%s", out)
	}
}

func TestWriterRetention(t *testing.T) {
	t.Parallel()
	store := &fakeStore{}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	w := NewWriter(store, WriterOptions{Retention: 30 * 24 * time.Hour, PruneInterval: 5 * time.Millisecond,
		Now: func() time.Time { return now }})
	waitFor(t, "two prunes", func() bool { store.mu.Lock(); defer store.mu.Unlock(); return len(store.prunes) >= 2 })
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	store.mu.Lock()
	n := len(store.prunes)
	cut := store.prunes[0]
	store.mu.Unlock()
	if want := now.AddDate(0, 0, -30); !cut.Equal(want) {
		t.Errorf("Prune before %v, want %v", cut, want)
	}
	if w.Stats().Pruned < 2 {
		t.Errorf("Pruned = %d", w.Stats().Pruned)
	}
	time.Sleep(20 * time.Millisecond)
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.prunes) != n {
		t.Error("Prune ran after Close")
	}
}

func TestWriterNoRetention(t *testing.T) {
	t.Parallel()
	store := &fakeStore{}
	w := NewWriter(store, WriterOptions{})
	if _, err := w.Prune(context.Background()); err == nil {
		t.Error("Prune without retention succeeded")
	}
	w.Close(context.Background())
	if len(store.prunes) != 0 {
		t.Error("pruned without a retention")
	}
}

// TestWriterRecordNoAlloc: Record copies the record and, once the pending
// slice has capacity, allocates nothing; a whole cycle (the batch, its
// kick, the swap and the write) allocates a few objects per batch (the
// Write's timeout context), none per record. Not parallel: AllocsPerRun
// counts every goroutine's allocations.
func TestWriterRecordNoAlloc(t *testing.T) {
	const batch = 1000
	w := NewWriter(&discardStore{}, WriterOptions{BatchSize: batch, QueueSize: 1 << 16, FlushInterval: time.Hour})
	defer w.Close(context.Background())
	start := time.Now()
	tags := []string{"tag"}
	record := func(n int) {
		for range n {
			r := Record{RequestID: "req", Start: start, TeamID: "team", KeyID: "key", Model: "gpt-4o", Status: 200, Cost: 0.01, Tags: tags}
			w.Record(&r)
		}
	}
	// wait spins (no allocation) until the store acknowledged n records.
	wait := func(n uint64) {
		deadline := time.Now().Add(10 * time.Second)
		for w.written.Load() < n {
			if time.Now().After(deadline) {
				panic("timed out waiting for the writer")
			}
			runtime.Gosched()
		}
	}
	// Warm up: a few batches go through both buffers.
	record(5 * batch)
	wait(5 * batch)
	written := w.written.Load()

	// The request path alone: 2 × 400 records (the warm-up run and the
	// measured one), less than a batch, so no kick and no writer activity.
	if n := testing.AllocsPerRun(1, func() { record(400) }); n != 0 {
		t.Errorf("400 Records allocated %v times, want 0", n)
	}
	record(batch - 800) // complete the batch
	written += batch
	wait(written)

	// Whole cycles: a batch of Records, its kick, the swap and the write.
	perBatch := testing.AllocsPerRun(10, func() {
		record(batch)
		written += batch
		wait(written)
	})
	if perBatch > 20 {
		t.Errorf("a cycle of %d records allocated %v times, want a few per batch (none per record)", batch, perBatch)
	}
	t.Logf("allocations per batch of %d: %v", batch, perBatch)
	if st := w.Stats(); st.Dropped() != 0 {
		t.Errorf("dropped: %+v", st)
	}
}

// TestWriterKickAtBatchSize: a full batch is written at once, without
// waiting for FlushInterval; a partial one waits.
func TestWriterKickAtBatchSize(t *testing.T) {
	t.Parallel()
	store := &fakeStore{}
	w := NewWriter(store, WriterOptions{BatchSize: 10, QueueSize: 100, FlushInterval: time.Hour})
	defer w.Close(context.Background())
	for i := range 9 {
		w.Record(testRecord(i))
	}
	time.Sleep(50 * time.Millisecond)
	if got := store.count(); got != 0 {
		t.Fatalf("a partial batch was written (%d records) before FlushInterval", got)
	}
	if q := w.Stats().Queued; q != 9 {
		t.Errorf("Queued = %d, want 9", q)
	}
	w.Record(testRecord(9))
	waitFor(t, "the full batch", func() bool { return store.count() == 10 })
	// A kick takes whole batches: the records that arrive meanwhile wait
	// for the next one, and every batch is a full one.
	for i := 10; i < 105; i++ {
		w.Record(testRecord(i))
	}
	waitFor(t, "nine more batches", func() bool { return store.count() == 100 })
	time.Sleep(50 * time.Millisecond)
	if got, q := store.count(), w.Stats().Queued; got != 100 || q != 5 {
		t.Errorf("the store has %d records and %d are queued, want 100 and 5", got, q)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	for _, b := range store.batches {
		if len(b) != 10 {
			t.Errorf("a batch of %d, want 10", len(b))
		}
	}
}

// TestWriterKickQueueSmallerThanBatch: with QueueSize below BatchSize, a
// full queue kicks the writer (which takes all of it).
func TestWriterKickQueueSmallerThanBatch(t *testing.T) {
	t.Parallel()
	store := &fakeStore{}
	w := NewWriter(store, WriterOptions{BatchSize: 1000, QueueSize: 5, FlushInterval: time.Hour})
	defer w.Close(context.Background())
	for i := range 5 {
		w.Record(testRecord(i))
	}
	waitFor(t, "the queue's worth", func() bool { return store.count() == 5 })
	if st := w.Stats(); st.Dropped() != 0 || st.Queued != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestWriterManyGoroutines: records from many goroutines, each reusing
// one Record on its stack, all arrive exactly once and intact.
func TestWriterManyGoroutines(t *testing.T) {
	t.Parallel()
	const goroutines, each = 8, 5000
	store := &fakeStore{}
	w := NewWriter(store, WriterOptions{BatchSize: 64, QueueSize: 1 << 17, FlushInterval: time.Millisecond})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() { // Stats alongside
		for {
			select {
			case <-stop:
				return
			default:
				if q := w.Stats().Queued; q < 0 || q > goroutines*each {
					t.Errorf("Queued = %d", q)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}()
	tags := []string{"tag"}
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r Record
			for i := range each {
				r = Record{RequestID: fmt.Sprintf("g%d-%d", g, i), TeamID: fmt.Sprint(g), PromptTokens: int64(i), Tags: tags}
				w.Record(&r)
				r.RequestID, r.PromptTokens = "changed", -1 // the Writer keeps its own copy
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Written != goroutines*each || st.Dropped() != 0 || st.Queued != 0 {
		t.Errorf("stats %+v, want %d written and none dropped", st, goroutines*each)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.ids) != goroutines*each {
		t.Errorf("the store has %d distinct records, want %d", len(store.ids), goroutines*each)
	}
	for id, n := range store.ids {
		if n != 1 {
			t.Errorf("%s written %d times", id, n)
		}
	}
	for _, b := range store.batches {
		if len(b) > 64 {
			t.Errorf("a batch of %d, want at most 64", len(b))
		}
		for _, r := range b {
			if want := fmt.Sprintf("g%s-%d", r.TeamID, r.PromptTokens); r.RequestID != want {
				t.Fatalf("record %s (team %s, prompt tokens %d) is not the one recorded", r.RequestID, r.TeamID, r.PromptTokens)
			}
		}
	}
}

// TestWriterFullQueueManyGoroutines: while the store is blocked, Records
// from many goroutines never block; the queue keeps QueueSize records
// (plus the batch in the store's hands) and counts the rest as drops.
func TestWriterFullQueueManyGoroutines(t *testing.T) {
	t.Parallel()
	const goroutines, each, queue, batch = 4, 5000, 100, 10
	release := make(chan struct{})
	store := &fakeStore{write: func(context.Context, []Record) error { <-release; return nil }}
	var drops atomic.Int64
	w := NewWriter(store, WriterOptions{QueueSize: queue, BatchSize: batch, FlushInterval: time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
		OnDrop: func(reason string, n int) {
			if reason == "queue_full" {
				drops.Add(int64(n))
			}
		}})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				w.Record(testRecord(g*each + i))
				if i%500 == 0 {
					if q := w.Stats().Queued; q > queue {
						t.Errorf("Queued = %d > QueueSize %d", q, queue)
					}
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Record blocked while the store was blocked")
	}
	st := w.Stats()
	if kept := goroutines*each - int(st.DroppedFull); kept < queue || kept > queue+batch {
		t.Errorf("kept %d of %d with a queue of %d and a batch of %d (stats %+v)", kept, goroutines*each, queue, batch, st)
	}
	close(release)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st = w.Stats()
	if got := store.count(); uint64(got) != st.Written || st.Written+st.DroppedFull != goroutines*each || st.DroppedFailed+st.DroppedClosed != 0 {
		t.Errorf("store has %d; stats %+v", got, st)
	}
	if drops.Load() != int64(st.DroppedFull) {
		t.Errorf("OnDrop(queue_full) told %d, stats say %d", drops.Load(), st.DroppedFull)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	for id, n := range store.ids {
		if n != 1 {
			t.Errorf("%s written %d times", id, n)
		}
	}
}

// discardStore takes every batch at once.
type discardStore struct{ fakeStore }

func (*discardStore) Write(context.Context, []Record) error { return nil }

// BenchmarkRecord is the request path's cost: no allocation (Record copies
// the record, so the benchmark's own &Record{} stays on its stack).
func BenchmarkRecord(b *testing.B) {
	w := NewWriter(&discardStore{}, WriterOptions{})
	defer w.Close(context.Background())
	start := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.Record(&Record{RequestID: "req", Start: start, TeamID: "team", KeyID: "key", Model: "gpt-4o", Status: 200, Cost: 0.01})
	}
	b.StopTimer()
	st := w.Stats()
	b.ReportMetric(float64(st.DroppedFull), "dropped")
}

func BenchmarkRecordParallel(b *testing.B) {
	w := NewWriter(&discardStore{}, WriterOptions{})
	defer w.Close(context.Background())
	start := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Record(&Record{RequestID: "req", Start: start, TeamID: "team", KeyID: "key", Model: "gpt-4o", Status: 200, Cost: 0.01})
		}
	})
}

// BenchmarkRecordFull is the drop path: the queue is full.
func BenchmarkRecordFull(b *testing.B) {
	block := make(chan struct{})
	w := NewWriter(&fakeStore{write: func(context.Context, []Record) error { <-block; return nil }}, WriterOptions{QueueSize: 1, BatchSize: 1})
	defer func() { close(block); w.Close(context.Background()) }()
	r := &Record{RequestID: "req"}
	b.ReportAllocs()
	for b.Loop() {
		w.Record(r)
	}
}

// BenchmarkWriterRecord is the whole per-record cost: Record from every P
// (b.RunParallel), plus the writer goroutine's share (it competes for the
// same CPUs), with a store that discards. The record is built on the
// caller's stack, as the gateway does. cpu-ns/op is the process's CPU time
// (user and system, every thread) per call; dropped/op is the share of
// calls dropped because the queue was full.
//
// "saturated" calls Record back to back: the callers outrun the writer
// goroutine (it gets a CPU only when a caller is preempted), so most calls
// take the cheap drop path. "yield64" lets each caller yield its P every
// 64 calls, as request goroutines do when they wait for the network: no
// drops, so its cpu-ns/op is the cost of a record that is written.
func BenchmarkWriterRecord(b *testing.B) {
	for _, bc := range []struct {
		name  string
		yield int
	}{{"saturated", 0}, {"yield64", 64}} {
		b.Run(bc.name, func(b *testing.B) {
			w := NewWriter(&discardStore{}, WriterOptions{Logger: slog.New(slog.DiscardHandler)})
			start := time.Now()
			tags := []string{"team-tag"}
			b.ReportAllocs()
			cpu0 := processCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for i := 1; pb.Next(); i++ {
					r := Record{RequestID: "req", Start: start, End: start, TeamID: "team", KeyID: "key", Model: "gpt-4o",
						Status: 200, PromptTokens: 10, CompletionTokens: 20, Cost: 0.01, Tags: tags}
					w.Record(&r)
					if bc.yield > 0 && i%bc.yield == 0 {
						runtime.Gosched()
					}
				}
			})
			w.Close(context.Background()) // the writer's last batches count
			b.StopTimer()
			cpu := processCPU() - cpu0
			st := w.Stats()
			if cpu > 0 {
				b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
			}
			b.ReportMetric(float64(st.DroppedFull)/float64(b.N), "dropped/op")
		})
	}
}
