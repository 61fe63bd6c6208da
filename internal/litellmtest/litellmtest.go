// Package litellmtest seeds a PostgreSQL schema the way a LiteLLM proxy's
// Prisma migrations create it (a trimmed copy of the tables the import
// reads, quoted mixed-case names and all), and encrypts values the way
// LiteLLM stores them, for the tests of package litellmimport and of
// `gateway import-litellm`.
package litellmtest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/nacl/secretbox"
)

// DDL is the trimmed schema: the columns of schema.prisma's models as
// `prisma migrate` writes them for PostgreSQL.
const DDL = `
CREATE TABLE "LiteLLM_ModelTable" (
    "id" SERIAL NOT NULL,
    "aliases" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT NOT NULL,
    CONSTRAINT "LiteLLM_ModelTable_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "LiteLLM_TeamTable" (
    "team_id" TEXT NOT NULL,
    "team_alias" TEXT,
    "organization_id" TEXT,
    "object_permission_id" TEXT,
    "admins" TEXT[],
    "members" TEXT[],
    "members_with_roles" JSONB NOT NULL DEFAULT '{}',
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "max_budget" DOUBLE PRECISION,
    "soft_budget" DOUBLE PRECISION,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    "models" TEXT[],
    "max_parallel_requests" INTEGER,
    "tpm_limit" BIGINT,
    "rpm_limit" BIGINT,
    "budget_duration" TEXT,
    "budget_reset_at" TIMESTAMP(3),
    "blocked" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "model_spend" JSONB NOT NULL DEFAULT '{}',
    "model_max_budget" JSONB NOT NULL DEFAULT '{}',
    "router_settings" JSONB DEFAULT '{}',
    "team_member_permissions" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "model_id" INTEGER,
    CONSTRAINT "LiteLLM_TeamTable_pkey" PRIMARY KEY ("team_id")
);
CREATE UNIQUE INDEX "LiteLLM_TeamTable_model_id_key" ON "LiteLLM_TeamTable"("model_id");
ALTER TABLE "LiteLLM_TeamTable" ADD CONSTRAINT "LiteLLM_TeamTable_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "LiteLLM_ModelTable"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE TABLE "LiteLLM_VerificationToken" (
    "token" TEXT NOT NULL,
    "key_name" TEXT,
    "key_alias" TEXT,
    "soft_budget_cooldown" BOOLEAN NOT NULL DEFAULT false,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    "expires" TIMESTAMP(3),
    "models" TEXT[],
    "aliases" JSONB NOT NULL DEFAULT '{}',
    "config" JSONB NOT NULL DEFAULT '{}',
    "user_id" TEXT,
    "team_id" TEXT,
    "permissions" JSONB NOT NULL DEFAULT '{}',
    "max_parallel_requests" INTEGER,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "blocked" BOOLEAN,
    "tpm_limit" BIGINT,
    "rpm_limit" BIGINT,
    "max_budget" DOUBLE PRECISION,
    "budget_duration" TEXT,
    "budget_reset_at" TIMESTAMP(3),
    "allowed_cache_controls" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "allowed_routes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "model_spend" JSONB NOT NULL DEFAULT '{}',
    "model_max_budget" JSONB NOT NULL DEFAULT '{}',
    "budget_id" TEXT,
    "organization_id" TEXT,
    "created_at" TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT,
    "updated_at" TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT,
    CONSTRAINT "LiteLLM_VerificationToken_pkey" PRIMARY KEY ("token")
);
CREATE TABLE "LiteLLM_ProxyModelTable" (
    "model_id" TEXT NOT NULL,
    "model_name" TEXT NOT NULL,
    "litellm_params" JSONB NOT NULL,
    "model_info" JSONB,
    "blocked" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT NOT NULL,
    CONSTRAINT "LiteLLM_ProxyModelTable_pkey" PRIMARY KEY ("model_id")
);
CREATE TABLE "LiteLLM_UserTable" (
    "user_id" TEXT NOT NULL,
    "user_alias" TEXT,
    "team_id" TEXT,
    "teams" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "user_role" TEXT,
    "max_budget" DOUBLE PRECISION,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    "user_email" TEXT,
    "models" TEXT[],
    "metadata" JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT "LiteLLM_UserTable_pkey" PRIMARY KEY ("user_id")
);
CREATE TABLE "LiteLLM_SpendLogs" (
    "request_id" TEXT NOT NULL,
    "call_type" TEXT NOT NULL,
    "api_key" TEXT NOT NULL DEFAULT '',
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    "total_tokens" INTEGER NOT NULL DEFAULT 0,
    "startTime" TIMESTAMP(3) NOT NULL,
    "endTime" TIMESTAMP(3) NOT NULL,
    "model" TEXT NOT NULL DEFAULT '',
    "team_id" TEXT,
    CONSTRAINT "LiteLLM_SpendLogs_pkey" PRIMARY KEY ("request_id")
);
`

// DB is a fresh schema holding DDL.
type DB struct {
	// URL is the database URL with Prisma's ?schema= naming the schema,
	// as LiteLLM's DATABASE_URL would.
	URL  string
	Conn *pgx.Conn
}

// Exec runs a statement, failing the test on error.
func (d *DB) Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := d.Conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// New creates a schema gwimp_<random> in GATEWAY_TEST_DATABASE_URL's
// database, creates DDL in it and drops it at cleanup. Without the
// variable it skips the test (fails it when CI=true).
func New(t testing.TB) *DB {
	t.Helper()
	base := os.Getenv("GATEWAY_TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but GATEWAY_TEST_DATABASE_URL is unset")
		}
		t.Skip("GATEWAY_TEST_DATABASE_URL is unset: this test needs PostgreSQL (e.g. postgres://gw:gw@127.0.0.1:5432/gw_import?sslmode=disable)")
	}
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := fmt.Sprintf("gwimp_%x", b)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to GATEWAY_TEST_DATABASE_URL: %v", err)
	}
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		_ = admin.Close(context.Background())
	})
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, DDL); err != nil {
		t.Fatalf("creating LiteLLM's tables: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	return &DB{URL: u.String(), Conn: conn}
}

// EncryptNaCl is LiteLLM's historical encryption: a NaCl secretbox keyed
// by sha256(salt), the random 24-byte nonce first, URL-safe base64 with
// padding.
func EncryptNaCl(salt, plain string) string {
	key := sha256.Sum256([]byte(salt))
	var nonce [24]byte
	_, _ = rand.Read(nonce[:])
	return base64.URLEncoding.EncodeToString(secretbox.Seal(nonce[:], []byte(plain), &nonce, &key))
}

// EncryptNaClStd is EncryptNaCl with standard base64 (older LiteLLM).
func EncryptNaClStd(salt, plain string) string {
	key := sha256.Sum256([]byte(salt))
	var nonce [24]byte
	_, _ = rand.Read(nonce[:])
	return base64.StdEncoding.EncodeToString(secretbox.Seal(nonce[:], []byte(plain), &nonce, &key))
}

// EncryptGCM is LiteLLM's AES-256-GCM format: version "v3" (HKDF-SHA256
// key) or "v2" (sha256 key), then "v<n>:gcm:" + URL-safe base64 of
// nonce(12) || ciphertext || tag.
func EncryptGCM(version, salt, plain string) string {
	var key []byte
	switch version {
	case "v3":
		key, _ = hkdf.Key(sha256.New, []byte(salt), nil, "litellm-at-rest-v3", 32)
	default:
		k := sha256.Sum256([]byte(salt))
		key = k[:]
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	return version + ":gcm:" + base64.URLEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(plain), nil))
}

// Token is LiteLLM's stored form of a virtual key: sha256 hex.
func Token(key string) string {
	s := sha256.Sum256([]byte(key))
	return fmt.Sprintf("%x", s)
}
