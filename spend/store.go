package spend

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the store's file inside the state directory.
const FileName = "spend.db"

// FlushInterval is the longest time a delta waits before it is written.
const FlushInterval = 500 * time.Millisecond

var bucketTeams = []byte("teams")

// teamRecord is the key of a team's own record inside its bucket; keys'
// records are stored under "key:<token>".
const teamRecord = "team"

// Record is one team's or key's spend in its current budget period.
type Record struct {
	// Spend is the cost, in USD, of the calls in the period.
	Spend float64 `json:"spend"`
	// PeriodStart is the first period's start: the team's or key's
	// created_at, or when the gateway first saw it. Resets happen at
	// PeriodStart plus whole budget durations.
	PeriodStart time.Time `json:"period_start"`
	// ResetAt is when the current period ends; zero when the budget never
	// resets (no budget_duration).
	ResetAt time.Time `json:"budget_reset_at,omitzero"`
}

// Team is what Load returns: a team's record and its keys' records.
type Team struct {
	Team  *Record            // nil when the team has no stored record
	Keys  map[string]*Record // by key token (sha256 hex)
	Found bool
}

// Delta is a change to one record: Spend is added and PeriodStart and
// ResetAt replace the stored ones. A NewPeriod delta (a budget reset)
// replaces the stored spend instead, unless the stored period is already
// a later one (a stale reset, dropped).
type Delta struct {
	TeamID string
	// KeyToken is "" for the team's own record.
	KeyToken    string
	Spend       float64
	PeriodStart time.Time
	ResetAt     time.Time
	NewPeriod   bool
	// Forget drops every record of TeamID (the team was removed): a team
	// created again with the same id starts at zero spend.
	Forget bool
}

type loadReq struct {
	teamID string
	reply  chan Team
}

type id struct{ team, key string }

// Store is the spend store. Its methods are safe for concurrent use.
type Store struct {
	db      *bolt.DB
	log     *slog.Logger
	deltas  chan Delta
	loads   chan loadReq
	closing chan chan error
	done    chan struct{}
}

// Open opens (creating if needed) the store in dir.
func Open(dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the state directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("opening %s: another gateway process holds it; give each gateway its own --state-dir", path)
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketTeams)
		return err
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("initialising %s: %w", path, err)
	}
	s := &Store{
		db:      db,
		log:     log,
		deltas:  make(chan Delta, 1<<14),
		loads:   make(chan loadReq),
		closing: make(chan chan error),
		done:    make(chan struct{}),
	}
	go s.run()
	return s, nil
}

// Add queues a delta. It does not wait for the disk; it blocks only if
// the queue (16,384 deltas) is full while a flush runs.
func (s *Store) Add(d Delta) {
	select {
	case s.deltas <- d:
	case <-s.done:
		s.log.Warn("spend delta after the store closed is lost", "team", d.TeamID, "spend", d.Spend)
	}
}

// Load returns a team's stored records, including deltas not yet written.
func (s *Store) Load(teamID string) Team {
	r := loadReq{teamID: teamID, reply: make(chan Team, 1)}
	select {
	case s.loads <- r:
		return <-r.reply
	case <-s.done:
		return Team{Keys: map[string]*Record{}}
	}
}

// Forget queues the removal of every record of a team (its own and its
// keys'), after the deltas already queued.
func (s *Store) Forget(teamID string) {
	s.Add(Delta{TeamID: teamID, Forget: true})
}

// Close writes every pending delta and closes the file.
func (s *Store) Close() error {
	c := make(chan error, 1)
	select {
	case s.closing <- c:
		return <-c
	case <-s.done:
		return nil
	}
}

func (s *Store) run() {
	pending := map[id]*Record{}
	tick := time.NewTicker(FlushInterval)
	defer tick.Stop()
	for {
		select {
		case d := <-s.deltas:
			s.merge(pending, d)
		case r := <-s.loads:
			s.drain(pending) // deltas added before the Load count
			r.reply <- s.load(pending, r.teamID)
		case <-tick.C:
			if len(pending) > 0 && s.flush(pending) == nil {
				clear(pending)
			}
		case c := <-s.closing:
			s.drain(pending)
			err := s.flush(pending)
			if cerr := s.db.Close(); err == nil {
				err = cerr
			}
			close(s.done)
			c <- err
			return
		}
	}
}

// drain merges every delta already queued.
func (s *Store) drain(pending map[id]*Record) {
	for {
		select {
		case d := <-s.deltas:
			s.merge(pending, d)
		default:
			return
		}
	}
}

// merge applies d to the pending record of its id, reading the stored
// one first when there is none pending.
func (s *Store) merge(pending map[id]*Record, d Delta) {
	if d.Forget {
		s.forget(pending, d.TeamID)
		return
	}
	if !Finite(d.Spend) || d.Spend < 0 {
		s.log.Error("a spend delta that is not a finite, non-negative number is counted as 0", "team", d.TeamID, "spend", fmt.Sprint(d.Spend))
		d.Spend = 0
	}
	k := id{d.TeamID, d.KeyToken}
	r, ok := pending[k]
	if !ok {
		r = s.read(k)
		if r == nil {
			r = &Record{PeriodStart: d.PeriodStart, ResetAt: d.ResetAt}
		}
		pending[k] = r
	}
	apply(r, d)
}

func apply(r *Record, d Delta) {
	if d.NewPeriod {
		if !r.ResetAt.IsZero() && r.ResetAt.After(d.ResetAt) {
			return // a stale reset: a later period is stored already
		}
		r.Spend = d.Spend
	} else {
		r.Spend = Add(r.Spend, d.Spend)
	}
	r.ResetAt = d.ResetAt
	if !d.PeriodStart.IsZero() {
		r.PeriodStart = d.PeriodStart
	}
}

// Finite reports whether v is neither NaN nor an infinity.
func Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Add is a + b for spend: never NaN, never infinite, never negative. A
// sum past the largest float64 stays at the largest float64 (a budget
// that is certainly exhausted), and a NaN or negative term counts 0.
func Add(a, b float64) float64 {
	if !Finite(a) || a < 0 {
		a = sanitize(a)
	}
	if !Finite(b) || b < 0 {
		b = sanitize(b)
	}
	sum := a + b
	if math.IsInf(sum, 1) {
		return math.MaxFloat64
	}
	return sum
}

// sanitize maps a spend that cannot be stored or compared to one that
// can: +Inf to the largest float64 (still exhausted), NaN, -Inf and
// negatives to 0.
func sanitize(v float64) float64 {
	switch {
	case math.IsInf(v, 1):
		return math.MaxFloat64
	case math.IsNaN(v) || v < 0:
		return 0
	}
	return v
}

// forget drops a team's pending and stored records.
func (s *Store) forget(pending map[id]*Record, teamID string) {
	for k := range pending {
		if k.team == teamID {
			delete(pending, k)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketTeams)
		if root.Bucket([]byte(teamID)) == nil {
			return nil
		}
		return root.DeleteBucket([]byte(teamID))
	})
	if err != nil {
		s.log.Error("removing the spend of a deleted team failed; a team created again with its id would start with it", "team", teamID, "err", err)
		return
	}
	s.log.Info("spend of a removed team dropped", "team", teamID)
}

// decodeRecord decodes a stored record. A record that cannot be decoded,
// or whose spend is negative, is logged and read as none / 0: one bad
// record never stops the rest of the state from loading. A spend too
// large to add to stays as it is (an exhausted budget).
func (s *Store) decodeRecord(teamID string, name, v []byte) *Record {
	r := &Record{}
	if err := json.Unmarshal(v, r); err != nil {
		s.log.Error("a spend record in the state directory cannot be read; it is ignored and starts again at 0", "team", teamID, "record", string(name), "err", err)
		return nil
	}
	if !Finite(r.Spend) || r.Spend < 0 {
		s.log.Warn("a spend record in the state directory holds an impossible spend; it counts as 0", "team", teamID, "record", string(name), "spend", fmt.Sprint(r.Spend))
		r.Spend = 0
	}
	return r
}

func recordKey(k id) []byte {
	if k.key == "" {
		return []byte(teamRecord)
	}
	return []byte("key:" + k.key)
}

// read returns the stored record of k, or nil.
func (s *Store) read(k id) *Record {
	var r *Record
	err := s.db.View(func(tx *bolt.Tx) error {
		tb := tx.Bucket(bucketTeams).Bucket([]byte(k.team))
		if tb == nil {
			return nil
		}
		if v := tb.Get(recordKey(k)); v != nil {
			r = s.decodeRecord(k.team, recordKey(k), v)
		}
		return nil
	})
	if err != nil {
		s.log.Error("reading spend", "team", k.team, "err", err)
		return nil
	}
	return r
}

func (s *Store) load(pending map[id]*Record, teamID string) Team {
	out := Team{Keys: map[string]*Record{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		tb := tx.Bucket(bucketTeams).Bucket([]byte(teamID))
		if tb == nil {
			return nil
		}
		return tb.ForEach(func(k, v []byte) error {
			r := s.decodeRecord(teamID, k, v)
			if r == nil {
				return nil
			}
			out.Found = true
			if string(k) == teamRecord {
				out.Team = r
			} else if len(k) > 4 && string(k[:4]) == "key:" {
				out.Keys[string(k[4:])] = r
			}
			return nil
		})
	})
	if err != nil {
		s.log.Error("loading spend", "team", teamID, "err", err)
	}
	for k, r := range pending {
		if k.team != teamID {
			continue
		}
		c := *r
		out.Found = true
		if k.key == "" {
			out.Team = &c
		} else {
			out.Keys[k.key] = &c
		}
	}
	return out
}

// flush writes the pending records in one transaction. A record that
// cannot be written (it cannot be encoded, or its team's bucket cannot be
// made) is logged and dropped, never retried forever: one team's bad
// record never stops another team's spend from being persisted. Only a
// failed transaction (the disk) keeps everything pending for the next
// flush.
func (s *Store) flush(pending map[id]*Record) error {
	if len(pending) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketTeams)
		for k, r := range pending {
			if !Finite(r.Spend) || r.Spend < 0 {
				s.log.Error("a pending spend is not a finite, non-negative number; it is stored as the nearest possible value", "team", k.team, "spend", fmt.Sprint(r.Spend))
				r.Spend = sanitize(r.Spend)
			}
			v, err := json.Marshal(r)
			if err != nil {
				s.log.Error("a spend record cannot be encoded; it is dropped, the other teams' are written", "team", k.team, "err", err)
				continue
			}
			tb, err := root.CreateBucketIfNotExists([]byte(k.team))
			if err != nil {
				s.log.Error("a team's spend cannot be stored; it is dropped, the other teams' are written", "team", k.team, "err", err)
				continue
			}
			if err := tb.Put(recordKey(k), v); err != nil {
				s.log.Error("a spend record cannot be stored; it is dropped, the other teams' are written", "team", k.team, "err", err)
				continue
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("writing spend to the state directory failed; it is retried with the next flush", "err", err)
		return err
	}
	return nil
}
