// Package pgdb opens the gateway's PostgreSQL connection pool
// (general_settings.database_url), shared by the usage and spend stores.
package pgdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Connect parses databaseURL, opens a pool and checks that the server
// answers (bounded by ctx). Its errors never contain the URL or the
// password: a parse error says only what to write.
func Connect(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, errors.New("general_settings.database_url is not a valid PostgreSQL URL; write postgres://user:password@host:5432/database?sslmode=require")
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "llm-gateway"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL (general_settings.database_url): %w", err)
	}
	return pool, nil
}
