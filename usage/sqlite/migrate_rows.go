package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/llmgateway/gateway/usage"
)

// goSteps are the migrations' steps in Go, run after the version's SQL in
// its transaction.
var goSteps = map[int]func(context.Context, *sql.Tx) error{
	2: moveRows,
}

// v1Cols are version 1's usage_rows columns moveRows reads.
const v1Cols = `start_us, request_id, end_us, team_id, key_id, key_alias, key_user_id, user, end_user,
	route, model, model_group, deployment_id, provider, status, error_type,
	prompt_tokens, completion_tokens, cached_tokens, cost, latency_us, ttft_us, stream, retries, fallbacks, tags, metadata`

// moveRows is version 2's step: version 1's rows become batches of
// chunks (chunkMax rows at a time, in team and start order), then
// usage_rows is dropped.
// The rollups were counted when the rows were written and stay as they
// are.
func moveRows(ctx context.Context, tx *sql.Tx) error {
	st, err := prepareWrites(ctx, tx)
	if err != nil {
		return err
	}
	defer st.close()
	var lastTeam, lastID string
	lastStart := int64(-1 << 63)
	first := true
	for {
		page, err := readRowsV1(ctx, tx, first, lastTeam, lastStart, lastID)
		if err != nil {
			return err
		}
		first = false
		if len(page) > 0 {
			b := buildBatch(page, &pacer{}) // at start-up: nothing to pace
			_, err := st.writeBatch(ctx, b, &pacer{})
			b.release()
			if err != nil {
				return err
			}
		}
		if len(page) < chunkMax {
			break
		}
		last := page[len(page)-1]
		lastTeam, lastStart, lastID = last.TeamID, last.Start.UnixMicro(), last.RequestID
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE usage_rows`)
	return err
}

// readRowsV1 reads the next chunkMax rows in (team, start, request id) order.
func readRowsV1(ctx context.Context, tx *sql.Tx, first bool, team string, start int64, id string) ([]usage.Record, error) {
	query := `SELECT ` + v1Cols + ` FROM usage_rows`
	var args []any
	if !first {
		query += ` WHERE (team_id, start_us, request_id) > (?, ?, ?)`
		args = append(args, team, start, id)
	}
	rows, err := tx.QueryContext(ctx, query+` ORDER BY team_id, start_us, request_id LIMIT ?`, append(args, chunkMax)...)
	if err != nil {
		return nil, fmt.Errorf("reading version 1's rows: %w", err)
	}
	defer rows.Close()
	var page []usage.Record
	for rows.Next() {
		var r usage.Record
		var start, end, latency, ttft, stream, status, retries, fallbacks int64
		var tags, md sql.NullString
		if err := rows.Scan(&start, &r.RequestID, &end, &r.TeamID, &r.KeyID, &r.KeyAlias, &r.KeyUserID,
			&r.User, &r.EndUser, &r.Route, &r.Model, &r.ModelGroup, &r.DeploymentID, &r.Provider, &status, &r.ErrorType,
			&r.PromptTokens, &r.CompletionTokens, &r.CachedTokens, &r.Cost,
			&latency, &ttft, &stream, &retries, &fallbacks, &tags, &md); err != nil {
			return nil, fmt.Errorf("reading version 1's rows: %w", err)
		}
		r.Start, r.End = time.UnixMicro(start).UTC(), time.UnixMicro(end).UTC()
		r.Latency, r.TTFT = time.Duration(latency)*time.Microsecond, time.Duration(ttft)*time.Microsecond
		r.Stream, r.Status, r.Retries, r.Fallbacks = stream != 0, int(status), int(retries), int(fallbacks)
		if tags.Valid && tags.String != "" {
			if err := json.Unmarshal([]byte(tags.String), &r.Tags); err != nil {
				return nil, fmt.Errorf("reading version 1's rows: record %s has unreadable tags: %w", r.RequestID, err)
			}
		}
		if md.Valid && md.String != "" {
			r.Metadata = json.RawMessage(md.String)
		}
		page = append(page, r)
	}
	return page, rows.Err()
}
