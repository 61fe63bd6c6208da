package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/llmgateway/gateway/usage"
)

func chunkRecords(n int) []usage.Record {
	rng := rand.New(rand.NewPCG(3, 4))
	var rs []usage.Record
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for i := range n {
		start := t0.Add(time.Duration(rng.IntN(7200_000_000)) * time.Microsecond)
		r := usage.Record{
			RequestID: fmt.Sprintf("req-%04d", i), Start: start, End: start.Add(time.Duration(rng.IntN(5e6)) * time.Microsecond),
			TeamID: "team-a", KeyID: fmt.Sprintf("key-%d", rng.IntN(3)), KeyAlias: "alias", KeyUserID: []string{"", "u1"}[rng.IntN(2)],
			User: []string{"", "body-user", "ünïcode"}[rng.IntN(3)], EndUser: "end", Route: "chat/completions",
			Model: fmt.Sprintf("m-%d", rng.IntN(4)), ModelGroup: []string{"", "group"}[rng.IntN(2)], DeploymentID: "dep",
			Provider: "openai", Status: []int{200, 429, 500}[rng.IntN(3)], ErrorType: []string{"", "rate_limit_error"}[rng.IntN(2)],
			PromptTokens: rng.Int64N(1e6), CompletionTokens: rng.Int64N(1e4), CachedTokens: rng.Int64N(10), Cost: rng.Float64(),
			Latency: time.Duration(rng.IntN(1e7)) * time.Microsecond, TTFT: time.Duration(rng.IntN(1e6)) * time.Microsecond,
			Stream: rng.IntN(2) == 0, Retries: rng.IntN(3), Fallbacks: rng.IntN(2),
		}
		if rng.IntN(2) == 0 {
			r.Tags = []string{"a", fmt.Sprint("t", rng.IntN(5))}
		}
		if rng.IntN(3) == 0 {
			r.Metadata = json.RawMessage(`{"job":"nightly","n":1}`)
		}
		rs = append(rs, r)
	}
	return rs
}

func TestChunkRoundTrip(t *testing.T) {
	t.Parallel()
	rs := chunkRecords(500)
	c := newChunkWriter("team-a")
	for i := range rs {
		c.add(&rs[i])
	}
	blob := c.encode()
	got, err := decodeChunk("team-a", blob)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rs) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got[0], rs[0])
	}
	t.Logf("%d records in %d bytes (%.0f per record)", len(rs), len(blob), float64(len(blob))/float64(len(rs)))
	// Every value Logs filters on is in the filter (no false negatives).
	f := c.terms.filter(chunkBloom)
	for _, r := range rs {
		for _, h := range []uint64{termHash(termKey, r.KeyID), termHash(termUser, usage.UserOf(&r)),
			termHash(termModel, usage.ModelOf(&r))} {
			if !mayContain(f, h) {
				t.Fatalf("the filter misses a term of %s", r.RequestID)
			}
		}
	}
	// The batch's filter holds every request id, and few others (about 1%).
	b := buildBatch(rs, &pacer{})
	bf := b.rids.filter(batchBloom)
	for _, r := range rs {
		if !mayContain(bf, termHash(termRequest, r.RequestID)) {
			t.Fatalf("the batch's filter misses %s", r.RequestID)
		}
	}
	fp := 0
	for i := range 10000 {
		if mayContain(bf, termHash(termRequest, fmt.Sprint("other-", i))) {
			fp++
		}
	}
	if fp > 30 {
		t.Fatalf("%d false positives in 10,000", fp)
	}
	// Every truncation is an error, never a panic.
	small := newChunkWriter("team-a")
	for i := range 20 {
		small.add(&rs[i])
	}
	blob = small.encode()
	for n := range len(blob) {
		if _, err := decodeChunk("team-a", blob[:n]); err == nil {
			t.Fatalf("a chunk cut to %d of %d bytes decoded", n, len(blob))
		}
	}
}

// FuzzDecodeChunk: any blob decodes or fails cleanly; a decoded chunk
// encodes back to records that decode the same.
func FuzzDecodeChunk(f *testing.F) {
	c := newChunkWriter("t")
	for _, r := range chunkRecords(3) {
		c.add(&r)
	}
	f.Add(c.encode())
	f.Add([]byte(chunkMagic))
	f.Add([]byte(chunkMagic + "\x01\x01a\x01"))
	f.Add([]byte("gwc1\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))
	f.Fuzz(func(t *testing.T, blob []byte) {
		recs, err := decodeChunk("t", blob)
		if err != nil {
			return
		}
		c := newChunkWriter("t")
		for i := range recs {
			c.add(&recs[i])
		}
		again, err := decodeChunk("t", c.encode())
		if err != nil {
			t.Fatalf("a decoded chunk re-encoded does not decode: %v", err)
		}
		if len(again) != len(recs) {
			t.Fatalf("%d records, then %d", len(recs), len(again))
		}
	})
}

func FuzzBloomFilter(f *testing.F) {
	f.Add([]byte{7, 0xff}, "x")
	f.Add([]byte{}, "")
	f.Add([]byte{200, 1, 2, 3}, "key")
	f.Fuzz(func(t *testing.T, filter []byte, s string) {
		mayContain(filter, termHash(termKey, s)) // never panics
		var terms bloomTerms
		terms.add(&usage.Record{KeyID: s, ModelGroup: s})
		if !mayContain(terms.filter(chunkBloom), termHash(termKey, s)) || !mayContain(terms.filter(chunkBloom), termHash(termModel, s)) {
			t.Fatal("a term added is not found")
		}
	})
}

// TestLogsManyChunks pages through hundreds of chunks that overlap in
// time (streams end long after they start), with each filter, against
// the records sorted by hand.
func TestLogsManyChunks(t *testing.T) {
	t.Parallel()
	s, err := Open(filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.listPage = 16 // several pages of chunks per Logs call
	// Written about in start order, as the Writer does, with some
	// records (long streams) far out of order.
	all := chunkRecords(1200)
	slices.SortFunc(all, func(a, b usage.Record) int { return a.Start.Compare(b.Start) })
	for i := range all {
		all[i].TeamID = []string{"team-a", "team-b", ""}[i%3]
		if i%50 == 0 { // a long stream
			all[i].Start = all[i].Start.Add(-30 * time.Minute)
		}
	}
	for i := 0; i < len(all); i += 40 { // 30 batches, 3 teams and some late records each
		if err := s.Write(t.Context(), all[i:min(i+40, len(all))]); err != nil {
			t.Fatal(err)
		}
	}
	from, to := all[0].Start.Add(-time.Hour), all[0].Start.Add(90*time.Minute)
	queries := []usage.LogQuery{
		{}, {Limit: 1000}, {TeamID: "team-b"}, {TeamID: "team-a", KeyID: "key-1", Limit: 7}, {UserID: "u1", Limit: 50},
		{Model: "group"}, {Model: "m-2", Status: "failure"}, {RequestID: "req-0042"}, {RequestID: "req-9999"},
		{From: from, To: to, Limit: 33}, {TeamID: "", Status: "success", Limit: 1}, {KeyID: "key-2", Model: "m-1"},
	}
	checkLogs(t, s, all, queries)
	// Prune rewrites the chunks it cuts through and deletes the others,
	// their index entries with them.
	cut := all[len(all)/2].Start
	n, err := s.Prune(t.Context(), cut)
	if err != nil {
		t.Fatal(err)
	}
	var left []usage.Record
	for _, r := range all {
		if !r.End.Before(cut) {
			left = append(left, r)
		}
	}
	if int(n) != len(all)-len(left) {
		t.Fatalf("Prune deleted %d records, want %d", n, len(all)-len(left))
	}
	checkLogs(t, s, left, queries)
	var dangling, chunks, indexed int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM usage_chunk_terms t LEFT JOIN usage_chunks c
		ON c.id = t.chunk_id AND c.start_max = t.start_max WHERE c.id IS NULL`).Scan(&dangling); err != nil || dangling != 0 {
		t.Fatalf("%d index entries of chunks gone or changed (%v)", dangling, err)
	}
	if err := s.r.QueryRow(`SELECT COUNT(*), (SELECT COUNT(DISTINCT chunk_id) FROM usage_chunk_terms) FROM usage_chunks`).Scan(&chunks, &indexed); err != nil || chunks != indexed {
		t.Fatalf("%d chunks, %d indexed (%v)", chunks, indexed, err)
	}
	var emptyBatches, orphans int
	if err := s.r.QueryRow(`SELECT
		(SELECT COUNT(*) FROM usage_batches b WHERE NOT EXISTS (SELECT 1 FROM usage_chunks c WHERE c.batch_id = b.id)),
		(SELECT COUNT(*) FROM usage_chunks c WHERE NOT EXISTS (SELECT 1 FROM usage_batches b WHERE b.id = c.batch_id))`).Scan(&emptyBatches, &orphans); err != nil || emptyBatches+orphans != 0 {
		t.Fatalf("after Prune: %d batches without chunks, %d chunks without a batch (%v)", emptyBatches, orphans, err)
	}
}

// checkLogs pages through each query and compares with all, filtered and
// sorted by hand.
func checkLogs(t *testing.T, s *Store, all []usage.Record, queries []usage.LogQuery) {
	t.Helper()
	for _, q := range queries {
		var want []usage.Record
		for _, r := range all {
			r := r
			usage.Bound(&r)
			m, _ := newLogMatch(q)
			if m.match(&r) {
				want = append(want, r)
			}
		}
		slices.SortFunc(want, newestFirst)
		var got []usage.Record
		pq := q
		for pages := 0; ; pages++ {
			p, err := s.Logs(context.Background(), pq)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p.Records...)
			if p.Next == "" {
				break
			}
			if pages > len(all) {
				t.Fatal("paging does not end")
			}
			pq.Cursor = p.Next
		}
		if len(got) != len(want) {
			t.Fatalf("%+v: %d records, want %d", q, len(got), len(want))
		}
		for i := range got {
			if got[i].RequestID != want[i].RequestID || !got[i].Start.Equal(want[i].Start) {
				t.Fatalf("%+v: record %d is %s, want %s", q, i, got[i].RequestID, want[i].RequestID)
			}
		}
	}
}

// TestMigrateRowsToChunks: a version 1 file (one row per record) opens
// with its records moved into chunks, its rollups as they were.
func TestMigrateRowsToChunks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	db, err := openDB(path, false)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := migrations.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		string(v1),
		`INSERT INTO schema_migrations VALUES (1, '0001_init', 0)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	rs := chunkRecords(5000)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		rs[i].TeamID = fmt.Sprint("team-", i%2)
		r := &rs[i]
		var tags, md any
		if len(r.Tags) > 0 {
			b, _ := json.Marshal(r.Tags)
			tags = string(b)
		}
		if len(r.Metadata) > 0 {
			md = string(r.Metadata)
		}
		if _, err := tx.Exec(`INSERT INTO usage_rows (`+v1Cols+`, user_dim, model_dim) VALUES (`+
			"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			r.Start.UnixMicro(), r.RequestID, r.End.UnixMicro(), r.TeamID, r.KeyID, r.KeyAlias, r.KeyUserID, r.User, r.EndUser,
			r.Route, r.Model, r.ModelGroup, r.DeploymentID, r.Provider, r.Status, r.ErrorType,
			r.PromptTokens, r.CompletionTokens, r.CachedTokens, r.Cost, r.Latency.Microseconds(), r.TTFT.Microseconds(),
			r.Stream, r.Retries, r.Fallbacks, tags, md, usage.UserOf(r), usage.ModelOf(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != 2 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	var gone sql.NullString
	if err := s.r.QueryRow(`SELECT name FROM sqlite_master WHERE name = 'usage_rows'`).Scan(&gone); err != sql.ErrNoRows {
		t.Fatalf("usage_rows is still there (%v)", err)
	}
	got := map[string]usage.Record{}
	q := usage.LogQuery{Limit: 1000}
	for {
		p, err := s.Logs(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			got[r.RequestID] = r
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if len(got) != len(rs) {
		t.Fatalf("%d records after the migration, want %d", len(got), len(rs))
	}
	for _, w := range rs {
		if g := got[w.RequestID]; !reflect.DeepEqual(g, w) {
			t.Fatalf("after the migration:\n got %+v\nwant %+v", g, w)
		}
	}
}

// TestRetriedBatch: a batch written again stores nothing, not even its
// batch row.
func TestRetriedBatch(t *testing.T) {
	t.Parallel()
	s, err := Open(filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rs := chunkRecords(50)
	for range 3 {
		if err := s.Write(t.Context(), rs); err != nil {
			t.Fatal(err)
		}
	}
	var batches, records int
	if err := s.r.QueryRow(`SELECT (SELECT COUNT(*) FROM usage_batches), (SELECT SUM(records) FROM usage_chunks)`).Scan(&batches, &records); err != nil {
		t.Fatal(err)
	}
	if batches != 1 || records != len(rs) {
		t.Fatalf("after three writes of one batch: %d batches, %d records", batches, records)
	}
}
