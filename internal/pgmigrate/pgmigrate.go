// Package pgmigrate applies a component's embedded, versioned SQL
// migrations to PostgreSQL at start, once, even when several gateway
// replicas start at the same moment.
//
// Why not goose or golang-migrate: the gateway's schemas are a handful of
// forward-only files and already talk to PostgreSQL through pgx only; both
// libraries go through database/sql (and a driver adapter) and bring their
// own dependency trees. What they would give us is exactly what PostgreSQL
// offers directly: DDL is transactional, so each migration runs in one
// transaction together with the row that records it, under a
// transaction-scoped advisory lock (pg_advisory_xact_lock) that
// serialises concurrent starters. A crash (kill -9 included) rolls the
// whole migration back; a second starter waits for the lock, then sees the
// version recorded and does nothing.
package pgmigrate

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lockKey is the advisory lock every gateway migration takes (an
// arbitrary constant: "gwmigr" in ASCII).
const lockKey int64 = 0x67776d696772

// Table records the applied migrations (component, version).
const Table = "gateway_migrations"

// Migration is one versioned SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load reads the migrations in dir of fsys: files named
// NNNN_description.sql, applied in version order.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: the name must start with a positive version number and an underscore (0001_init.sql)", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s have the same version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Apply applies the migrations of component that are not recorded yet,
// each in its own transaction under the advisory lock, and returns how
// many it applied. It refuses a database whose recorded version is newer
// than the newest migration it knows (a newer gateway migrated it).
func Apply(ctx context.Context, pool *pgxpool.Pool, component string, ms []Migration) (int, error) {
	applied := 0
	for _, m := range ms {
		did, err := applyOne(ctx, pool, component, m, ms[len(ms)-1].Version)
		if err != nil {
			return applied, err
		}
		if did {
			applied++
		}
	}
	return applied, nil
}

func applyOne(ctx context.Context, pool *pgxpool.Pool, component string, m Migration, newest int) (bool, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("migrating the %s schema: %w", component, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
		return false, fmt.Errorf("migrating the %s schema: taking the migration lock: %w", component, err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+Table+` (
		component text NOT NULL,
		version integer NOT NULL,
		name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (component, version))`); err != nil {
		return false, fmt.Errorf("migrating the %s schema: creating %s: %w", component, Table, err)
	}
	var maxV int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+Table+` WHERE component = $1`, component).Scan(&maxV); err != nil {
		return false, fmt.Errorf("migrating the %s schema: %w", component, err)
	}
	if maxV > newest {
		return false, fmt.Errorf("the %s schema in the database is at version %d, newer than this gateway knows (%d); run a gateway at least as new as the one that migrated it", component, maxV, newest)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+Table+` WHERE component = $1 AND version = $2)`, component, m.Version).Scan(&exists); err != nil {
		return false, fmt.Errorf("migrating the %s schema: %w", component, err)
	}
	if exists {
		return false, nil
	}
	if _, err := tx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
		return false, fmt.Errorf("migrating the %s schema: %s: %w", component, m.Name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+Table+` (component, version, name) VALUES ($1, $2, $3)`, component, m.Version, m.Name); err != nil {
		return false, fmt.Errorf("migrating the %s schema: recording %s: %w", component, m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migrating the %s schema: %s: %w", component, m.Name, err)
	}
	return true, nil
}
