package logwriter

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink records each Write call; block, when set, holds every Write until
// it is closed.
type sink struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	block  chan struct{}
}

func (s *sink) Write(p []byte) (int, error) {
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.buf.Write(p)
}

func (s *sink) snapshot() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String(), s.writes
}

func TestLinesArriveWholeAndInOrderInFewWrites(t *testing.T) {
	out := &sink{}
	w := New(out, 5*time.Millisecond)
	const writers, lines = 8, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				if _, err := fmt.Fprintf(w, "writer=%d line=%d %s\n", g, i, strings.Repeat("x", 40)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, writes := out.snapshot()
	next := make([]int, writers)
	n := 0
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		var g, i int
		if _, err := fmt.Sscanf(l, "writer=%d line=%d", &g, &i); err != nil || !strings.HasSuffix(l, strings.Repeat("x", 40)) {
			t.Fatalf("a torn or foreign line: %q", l)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d came where %d was due", g, i, next[g])
		}
		next[g]++
		n++
	}
	if n != writers*lines {
		t.Fatalf("%d lines arrived, want %d", n, writers*lines)
	}
	if writes >= n/10 {
		t.Errorf("%d lines took %d writes: they were not batched", n, writes)
	}
}

func TestALineAppearsWithoutClose(t *testing.T) {
	out := &sink{}
	w := New(out, 5*time.Millisecond)
	defer w.Close()
	_, _ = w.Write([]byte("hello\n"))
	for range 400 {
		if got, _ := out.snapshot(); got == "hello\n" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("a lone line was not written within 2 s")
}

func TestCloseWritesPendingAndLaterWritesGoStraight(t *testing.T) {
	out := &sink{}
	w := New(out, time.Hour) // only Close can write the batch
	_, _ = w.Write([]byte("before\n"))
	if got, _ := out.snapshot(); got != "" {
		t.Fatalf("written before its delay: %q", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := out.snapshot(); got != "before\n" {
		t.Fatalf("after Close: %q", got)
	}
	_, _ = w.Write([]byte("after\n"))
	if got, _ := out.snapshot(); got != "before\nafter\n" {
		t.Fatalf("a write after Close: %q", got)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestWriteBlocksInsteadOfDropping(t *testing.T) {
	out := &sink{block: make(chan struct{})}
	w := New(out, time.Millisecond)
	line := bytes.Repeat([]byte("y"), 64<<10)
	line[len(line)-1] = '\n'
	// The first batch is stuck in the output; fill the pending buffer.
	_, _ = w.Write(line)
	time.Sleep(20 * time.Millisecond) // let the first batch reach the blocked output
	for written := 0; written < MaxPending; written += len(line) {
		_, _ = w.Write(line)
	}
	blocked := make(chan struct{})
	go func() {
		_, _ = w.Write([]byte("last\n"))
		close(blocked)
	}()
	select {
	case <-blocked:
		t.Fatal("Write returned with MaxPending bytes waiting: it must wait, not grow or drop")
	case <-time.After(50 * time.Millisecond):
	}
	close(out.block)
	select {
	case <-blocked:
	case <-time.After(5 * time.Second):
		t.Fatal("Write stayed blocked after the output drained")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := out.snapshot()
	want := (MaxPending/len(line)+1)*len(line) + len("last\n")
	if len(got) < want || !strings.HasSuffix(got, "last\n") {
		t.Fatalf("wrote %d bytes ending %q, want %d ending with the last line", len(got), got[max(0, len(got)-10):], want)
	}
}
