package usage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	w := NewWriter(store, WriterOptions{FlushInterval: time.Hour})
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

// discardStore takes every batch at once.
type discardStore struct{ fakeStore }

func (*discardStore) Write(context.Context, []Record) error { return nil }

// BenchmarkRecord is the request path's cost: one allocation, the record
// itself (the benchmark's own &Record{}).
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
