package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmgateway/gateway/usage"
)

const helperEnv = "USAGE_SQLITE_CRASH_HELPER"

// TestMain runs the crash helper when the test binary is started as one.
func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		crashHelper(path)
		return
	}
	os.Exit(m.Run())
}

func helperRecord(i int) *usage.Record {
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return &usage.Record{RequestID: fmt.Sprintf("crash-%07d", i), Start: start, End: start.Add(time.Second),
		TeamID: fmt.Sprintf("team-%d", i%3), KeyID: "key", Model: "m", Status: 200, Cost: 0.001,
		PromptTokens: 3, Latency: time.Duration(i%500) * time.Millisecond, Tags: []string{"a", "b"}}
}

// crashHelper writes records through a Writer forever, printing how many
// the store acknowledged, until it is killed.
func crashHelper(path string) {
	s, err := Open(path)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	w := usage.NewWriter(s, usage.WriterOptions{BatchSize: 50, FlushInterval: 5 * time.Millisecond})
	var last uint64
	for i := 0; ; i++ {
		w.Record(helperRecord(i))
		if i%25 == 0 {
			time.Sleep(time.Millisecond)
		}
		if n := w.Stats().Written; n != last {
			fmt.Println("acked", n)
			last = n
		}
	}
}

// TestKill9 kills a process in the middle of its writes and checks that
// every acknowledged record is there, with its rollups, in a sound file.
func TestKill9(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked uint64
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		n, ok := strings.CutPrefix(line, "acked ")
		if !ok {
			cmd.Process.Kill()
			t.Fatalf("helper: %s", line)
		}
		acked, _ = strconv.ParseUint(n, 10, 64)
		if acked >= 2000 {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if acked < 2000 {
		t.Fatalf("the helper acknowledged only %d records before it ended", acked)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatalf("reopening after kill -9: %v", err)
	}
	defer s.Close()
	var check string
	if err := s.r.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var rows int64
	if err := s.r.QueryRow(`SELECT COALESCE(SUM(records), 0) FROM usage_chunks`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if uint64(rows) < acked {
		t.Fatalf("%d records after kill -9, but %d were acknowledged", rows, acked)
	}
	// The rollups hold exactly the rows: a batch is all or nothing.
	m, err := s.Totals(context.Background(), usage.TotalsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != rows {
		t.Fatalf("rollups count %d calls, rows %d", m.Requests, rows)
	}
	// The store takes writes again.
	if err := s.Write(context.Background(), []usage.Record{*helperRecord(9999999)}); err != nil {
		t.Fatal(err)
	}
}

// TestWriterNotClosed is a kill before a flush: what the Writer had
// written is there when the file is opened again; the partial batch in
// flight is all that is lost.
func TestWriterNotClosed(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	w := usage.NewWriter(s, usage.WriterOptions{BatchSize: 10, FlushInterval: time.Hour})
	for i := range 25 {
		w.Record(helperRecord(i))
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.Stats().Written < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", w.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	// No Close: open the file as a restarted gateway would.
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	p, err := s2.Logs(context.Background(), usage.LogQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 20 {
		t.Fatalf("after a kill before the flush: %d records, want the 20 of the two full batches", len(p.Records))
	}
	w.Close(context.Background())
	s.Close()
}

func TestReopen(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	s, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), []usage.Record{*helperRecord(1), *helperRecord(2)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := s.Write(context.Background(), []usage.Record{*helperRecord(3)}); err == nil {
		t.Fatal("Write after Close succeeded")
	}
	s, err = OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{FileName, FileName + "-wal", FileName + "-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	if v, err := s.SchemaVersion(context.Background()); err != nil || v != 2 {
		t.Errorf("schema version %d, %v", v, err)
	}
	p, err := s.Logs(context.Background(), usage.LogQuery{})
	if err != nil || len(p.Records) != 2 {
		t.Fatalf("after reopen: %d records, %v", len(p.Records), err)
	}
	var n int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != 2 {
		t.Errorf("schema_migrations has %d rows, %v", n, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, '0099_future', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(path)
	if err == nil || !strings.Contains(err.Error(), "newer than this gateway") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestNotADatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte("this is not a database, just some text that is long enough to look like a header......"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a text file: %v", err)
	}
}

// FuzzLogsCursor: whatever the cursor, Logs answers a page or an error
// wrapping usage.ErrBadQuery, never panics, and the rows stay.
func FuzzLogsCursor(f *testing.F) {
	s, err := Open(filepath.Join(f.TempDir(), FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	var batch []usage.Record
	for i := range 20 {
		batch = append(batch, *helperRecord(i))
	}
	if err := s.Write(context.Background(), batch); err != nil {
		f.Fatal(err)
	}
	f.Add(usage.EncodeCursor(batch[10].Start, batch[10].RequestID))
	f.Add(usage.EncodeCursor(time.Time{}, "x'); DELETE FROM usage_chunks; --"))
	f.Add("' OR 1=1 --")
	f.Add("")
	f.Fuzz(func(t *testing.T, cursor string) {
		p, err := s.Logs(context.Background(), usage.LogQuery{Cursor: cursor, Limit: 5})
		if err != nil {
			if !errors.Is(err, usage.ErrBadQuery) {
				t.Fatalf("cursor %q: %v", cursor, err)
			}
			return
		}
		if len(p.Records) > 5 {
			t.Fatalf("page of %d", len(p.Records))
		}
		var n int
		if err := s.r.QueryRow(`SELECT SUM(records) FROM usage_chunks`).Scan(&n); err != nil || n != 20 {
			t.Fatalf("rows after cursor %q: %d, %v", cursor, n, err)
		}
	})
}
