// Package pgtest gives a test its own PostgreSQL schema: a fresh schema
// with a random name in the database of GATEWAY_TEST_DATABASE_URL,
// dropped when the test ends, so tests run in parallel and twice in a
// row. Without GATEWAY_TEST_DATABASE_URL the test is skipped, unless
// CI=true, where it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the variable that names the test database.
const EnvURL = "GATEWAY_TEST_DATABASE_URL"

// BaseURL returns GATEWAY_TEST_DATABASE_URL, skipping the test without
// it (failing it when CI=true).
func BaseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but GATEWAY_TEST_DATABASE_URL is unset: .ci/run sets it after starting PostgreSQL")
		}
		t.Skip("PostgreSQL tests skipped: set GATEWAY_TEST_DATABASE_URL (e.g. postgres://gw:gw@127.0.0.1:5432/gw_usage?sslmode=disable) to run them")
	}
	return u
}

// Schema creates a fresh schema and returns a URL whose connections use
// it (search_path), and the schema's name. The schema is dropped at
// cleanup.
func Schema(t testing.TB) (string, string) {
	t.Helper()
	base := BaseURL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "gwpg_t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to GATEWAY_TEST_DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("creating schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("GATEWAY_TEST_DATABASE_URL is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), name
}
