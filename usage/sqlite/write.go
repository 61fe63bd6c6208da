package sqlite

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/llmgateway/gateway/usage"
)

// paceEvery is how many records buildBatch encodes between two looks
// at its pacer (which reads the clock).
const paceEvery = 16

// chunkMax bounds the records of one chunk.
const chunkMax = 4096

// lateSpan is how long before a batch's latest start a record's start
// must be for it to go to the team's chunk of late records.
const lateSpan = 10 * time.Second

// Write implements usage.Store: the batch is encoded before the lock is
// taken (one chunk per team, more past chunkMax records or for late
// ones); its batch row, chunks, index entries and rollups are written in
// one transaction.
func (s *Store) Write(ctx context.Context, batch []usage.Record) error {
	if len(batch) == 0 {
		return nil
	}
	pace := s.newPacer()
	b := buildBatch(batch, &pace)
	defer b.release()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("usage store: begin: %w", err)
	}
	defer tx.Rollback()
	st := s.st.in(ctx, tx)
	stored, err := st.writeBatch(ctx, b, &pace)
	if err != nil {
		return err
	}
	for _, c := range stored {
		hours, days := c.rollups.Rows()
		if err := upsert(ctx, st.upHour, hours, &pace); err != nil {
			return err
		}
		if err := upsert(ctx, st.upDay, days, &pace); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("usage store: commit: %w", err)
	}
	return nil
}

// batch is a Write's records encoded: its chunks, and a Bloom filter of
// its request ids (the usage_batches row a request-id lookup scans).
type batch struct {
	chunks             []*chunkWriter
	rids               bloomTerms
	startMin, startMax int64
	seen               map[uint64]int // buildBatch's scratch
}

// batches are reused, as chunkWriters are.
var batches = sync.Pool{New: func() any { return &batch{seen: make(map[uint64]int)} }}

// release returns b and its chunks to their pools; none may be used after.
func (b *batch) release() {
	for _, c := range b.chunks {
		c.release()
	}
	clear(b.chunks)
	b.chunks = b.chunks[:0]
	b.rids.reset()
	clear(b.seen)
	b.startMin, b.startMax = 0, 0
	batches.Put(b)
}

// buildBatch encodes records: each bound (usage.Bound), each (RequestID,
// Start) once, one chunk per team (in order of first appearance), per
// chunkMax records and for the records that started long before the
// others.
func buildBatch(records []usage.Record, pace *pacer) *batch {
	b := batches.Get().(*batch)
	// Duplicates are found by a hash of (start, request id), checked
	// exactly on a hit; the rare hash collisions go to an exact set.
	seen := b.seen
	type recID struct {
		start int64
		id    string
	}
	var collided map[recID]bool
	// Records that started long before the batch's latest (long streams)
	// go to chunks of their own, so the main chunks span a short time and
	// a page of Logs reads few of them.
	for i := range records {
		start := records[i].Start.UnixMicro()
		if i == 0 {
			b.startMin, b.startMax = start, start
		}
		b.startMin, b.startMax = min(b.startMin, start), max(b.startMax, start)
	}
	lateBefore := b.startMax - lateSpan.Microseconds()
	type chunkKey struct {
		team string
		late bool
	}
	open := map[chunkKey]*chunkWriter{}
	var last *chunkWriter
	for i := range records {
		if i%paceEvery == paceEvery-1 {
			pace.step()
		}
		start := records[i].Start.UnixMicro()
		rh := termHash(termRequest, records[i].RequestID)
		key := rh ^ uint64(start)*0x9e3779b97f4a7c15
		if j, ok := seen[key]; ok {
			if records[j].RequestID == records[i].RequestID && records[j].Start.UnixMicro() == start {
				continue
			}
			if collided == nil {
				collided = map[recID]bool{}
			}
			if id := (recID{start, records[i].RequestID}); collided[id] {
				continue
			} else {
				collided[id] = true
			}
		} else {
			seen[key] = i
		}
		r := records[i] // a copy: Bound must not change the caller's
		usage.Bound(&r)
		k := chunkKey{r.TeamID, start < lateBefore}
		c := last
		if c == nil || c.team != k.team || (c.startMin < lateBefore) != k.late {
			c = open[k]
		}
		if c == nil || c.n == chunkMax {
			c = newChunkWriter(r.TeamID)
			open[k] = c
			b.chunks = append(b.chunks, c)
		}
		last = c
		c.add(&r)
		c.rollups.Add(&r)
		b.rids.hashes = append(b.rids.hashes, rh)
	}
	return b
}

// writeStmts are the statements a batch is written with.
type writeStmts struct {
	batch, chunk, data, term, dropBatch, upHour, upDay *sql.Stmt
}

func prepareWrites(ctx context.Context, db interface {
	PrepareContext(context.Context, string) (*sql.Stmt, error)
}) (writeStmts, error) {
	var st writeStmts
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&st.batch, `INSERT INTO usage_batches (start_min, start_max, filter) VALUES (?, ?, ?)`},
		{&st.chunk, `INSERT INTO usage_chunks (batch_id, team_id, start_min, start_max, end_min, end_max, records, digest, filter)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`},
		{&st.data, `INSERT INTO usage_chunk_data (id, data) VALUES (?, ?)`},
		{&st.term, insertTermSQL},
		{&st.dropBatch, `DELETE FROM usage_batches WHERE id = ?`},
		{&st.upHour, upsertSQL("usage_hourly")},
		{&st.upDay, upsertSQL("usage_daily")},
	} {
		var err error
		if *p.dst, err = db.PrepareContext(ctx, p.query); err != nil {
			st.close()
			return writeStmts{}, err
		}
	}
	return st, nil
}

func (st writeStmts) all() []*sql.Stmt {
	return []*sql.Stmt{st.batch, st.chunk, st.data, st.term, st.dropBatch, st.upHour, st.upDay}
}

func (st writeStmts) close() {
	for _, s := range st.all() {
		if s != nil {
			s.Close()
		}
	}
}

// in is st bound to tx.
func (st writeStmts) in(ctx context.Context, tx *sql.Tx) writeStmts {
	return writeStmts{tx.StmtContext(ctx, st.batch), tx.StmtContext(ctx, st.chunk), tx.StmtContext(ctx, st.data),
		tx.StmtContext(ctx, st.term), tx.StmtContext(ctx, st.dropBatch), tx.StmtContext(ctx, st.upHour), tx.StmtContext(ctx, st.upDay)}
}

// writeBatch stores a batch's row, chunks and index entries (not its
// rollups); stored are the chunks not stored before (a chunk with the
// same team and data is the same batch written again).
func (st writeStmts) writeBatch(ctx context.Context, b *batch, pace *pacer) (stored []*chunkWriter, err error) {
	res, err := st.batch.ExecContext(ctx, b.startMin, b.startMax, b.rids.filter(batchBloom))
	if err != nil {
		return nil, fmt.Errorf("usage store: insert: %w", err)
	}
	batchID, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("usage store: insert: %w", err)
	}
	for _, c := range b.chunks {
		ok, err := st.writeChunk(ctx, batchID, c, pace)
		if err != nil {
			return nil, err
		}
		if ok {
			stored = append(stored, c)
		}
	}
	if len(stored) == 0 {
		if _, err := st.dropBatch.ExecContext(ctx, batchID); err != nil {
			return nil, fmt.Errorf("usage store: insert: %w", err)
		}
	}
	return stored, nil
}

// writeChunk stores c; ok is false when a chunk with the same team and
// data is there already.
func (st writeStmts) writeChunk(ctx context.Context, batchID int64, c *chunkWriter, pace *pacer) (ok bool, err error) {
	data := c.encode()
	pace.step()
	h := sha256.New()
	h.Write([]byte(c.team))
	h.Write([]byte{0})
	h.Write(data)
	res, err := st.chunk.ExecContext(ctx, batchID, c.team, c.startMin, c.startMax, c.endMin, c.endMax, c.n, h.Sum(nil), c.terms.filter(chunkBloom))
	if err != nil {
		return false, fmt.Errorf("usage store: insert: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return false, fmt.Errorf("usage store: insert: %w", err)
	}
	pace.step()
	if _, err := st.data.ExecContext(ctx, id, data); err != nil {
		return false, fmt.Errorf("usage store: insert: %w", err)
	}
	pace.step()
	if err := insertTerms(ctx, st.term, id, c, pace); err != nil {
		return false, err
	}
	return true, nil
}

const insertTermSQL = `INSERT OR IGNORE INTO usage_chunk_terms (term, start_max, chunk_id) VALUES (?, ?, ?)`

// insertTerms indexes chunk id's keys, users and models.
func insertTerms(ctx context.Context, insTerm *sql.Stmt, id int64, c *chunkWriter, pace *pacer) error {
	for _, h := range c.terms.indexed {
		if _, err := insTerm.ExecContext(ctx, int64(h), c.startMax, id); err != nil {
			return fmt.Errorf("usage store: insert: %w", err)
		}
		pace.step()
	}
	return nil
}

// upsert adds m's sums to their rows, in key order (neighbouring rows
// are written together).
func upsert(ctx context.Context, st *sql.Stmt, m map[usage.BucketKey]*usage.Agg, pace *pacer) error {
	keys := make([]usage.BucketKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b usage.BucketKey) int {
		return cmp.Or(strings.Compare(string(a.Dimension), string(b.Dimension)), strings.Compare(a.Value, b.Value),
			cmp.Compare(a.Bucket, b.Bucket), strings.Compare(a.TeamID, b.TeamID), strings.Compare(a.Detail, b.Detail))
	})
	args := make([]any, 5+len(aggCols))
	for _, k := range keys {
		args[0], args[1], args[2], args[3], args[4] = string(k.Dimension), k.Bucket, k.Value, k.TeamID, k.Detail
		aggArgs(args[5:], m[k])
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("usage store: rollup: %w", err)
		}
		pace.step()
	}
	return nil
}
