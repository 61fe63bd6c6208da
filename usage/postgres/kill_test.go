package postgres

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/llmgateway/gateway/internal/pgtest"
	"github.com/llmgateway/gateway/usage"
)

const childEnv = "GWPG_KILL9_CHILD_URL"

// TestKill9Child is the process TestKill9 kills: it writes batches until
// it is killed.
func TestKill9Child(t *testing.T) {
	u := os.Getenv(childEnv)
	if u == "" {
		t.Skip("run by TestKill9")
	}
	s, err := Open(context.Background(), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; ; b++ {
		var batch []usage.Record
		for i := range 20 {
			batch = append(batch, rec(fmt.Sprintf("b%d-%d", b, i), t0.Add(time.Duration(b)*time.Minute), "tm", "k", "m", 0.5, time.Millisecond, 200))
		}
		if err := s.Write(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKill9 kills a writing process with SIGKILL and checks that every
// stored record has its rollups and no rollup counts a record that is not
// stored: a batch and its rollups are one transaction, so PostgreSQL
// rolls back the one in flight.
func TestKill9(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.Schema(t)
	ctx := context.Background()
	s, err := Open(ctx, u, nil) // migrated before the child starts
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+u)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM usage_records`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= 200 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the child wrote %d records in 30s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	time.Sleep(100 * time.Millisecond) // the server notices the dead connection and rolls back
	var rows, daily, hourly int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM usage_records),
		(SELECT coalesce(sum(requests), 0) FROM usage_rollups WHERE granularity = 'd' AND dimension = 'team'),
		(SELECT coalesce(sum(requests), 0) FROM usage_rollups WHERE granularity = 'h' AND dimension = 'team')`).Scan(&rows, &daily, &hourly); err != nil {
		t.Fatal(err)
	}
	if rows%20 != 0 || daily != rows || hourly != rows {
		t.Fatalf("after kill -9: %d records, rollups count %d (daily) and %d (hourly)", rows, daily, hourly)
	}
}
