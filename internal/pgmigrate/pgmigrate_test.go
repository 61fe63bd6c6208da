package pgmigrate

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/llmgateway/gateway/internal/pgtest"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	ms, err := Load(fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
		"m/README":     {Data: []byte("x")},
	}, "m")
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[1].SQL != "B" {
		t.Fatalf("%+v %v", ms, err)
	}
	for _, bad := range []fstest.MapFS{
		{"m/x_a.sql": {}},
		{"m/0000_a.sql": {}},
		{"m/a.sql": {}},
		{"m/1_a.sql": {}, "m/0001_b.sql": {}},
	} {
		if _, err := Load(bad, "m"); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestApplyTwiceConcurrentlyAndNewer(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.Schema(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ms := []Migration{
		{Version: 1, Name: "0001_a.sql", SQL: "CREATE TABLE a (x int); INSERT INTO a VALUES (1);"},
		{Version: 2, Name: "0002_b.sql", SQL: "ALTER TABLE a ADD COLUMN y int;"},
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 5 {
		wg.Go(func() {
			n, err := Apply(ctx, pool, "test", ms)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != 2 {
		t.Fatalf("applied %d migrations in all, want 2", total)
	}
	if n, err := Apply(ctx, pool, "test", ms); err != nil || n != 0 {
		t.Fatalf("again: %d %v", n, err)
	}
	var rows int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM a").Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("the first migration ran %d times (%v)", rows, err)
	}
	// A failing migration leaves nothing behind.
	bad := append(ms, Migration{Version: 3, Name: "0003_c.sql", SQL: "ALTER TABLE a ADD COLUMN z int; SELECT 1/0;"})
	if _, err := Apply(ctx, pool, "test", bad); err == nil || !strings.Contains(err.Error(), "0003_c.sql") {
		t.Fatalf("failing migration: %v", err)
	}
	var cols int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'a' AND column_name = 'z' AND table_schema = current_schema()").Scan(&cols); err != nil || cols != 0 {
		t.Fatalf("a failed migration left column z (%v)", err)
	}
	// An older gateway refuses a newer schema.
	if _, err := Apply(ctx, pool, "test", ms[:1]); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("older gateway: %v", err)
	}
}

// FuzzLoad: any file name is either a migration with a positive version
// or an error, never a panic.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{"0001_init.sql", "x.sql", "0_a.sql", "-1_a.sql", "99999999999999999999_a.sql", "README"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
			return
		}
		ms, err := Load(fstest.MapFS{"m/" + name: {Data: []byte("SELECT 1")}}, "m")
		if err == nil {
			for _, m := range ms {
				if m.Version <= 0 {
					t.Fatalf("%q: version %d", name, m.Version)
				}
			}
		}
	})
}
