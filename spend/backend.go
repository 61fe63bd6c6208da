package spend

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Backend keeps spend across restarts: the bbolt Store in the state
// directory (the default), or the PostgreSQL one (package spend/pgspend,
// when general_settings.database_url is set) that several replicas can
// share. The actors use Load and Add (actors.SpendStore); the gateway
// calls Close on shutdown.
//
// Contract (both backends):
//   - Add never waits for the disk or the network: deltas are merged in
//     memory and written in one transaction at most every FlushInterval;
//     a failed write keeps them for the next one. A crash (kill -9) loses
//     at most the deltas not yet written, never a torn record.
//   - Load returns the team's records including the deltas this process
//     has not written yet.
//   - A Delta's ResetAt names its period: a late delta of an old period
//     never lands in a newer one, and a stale reset is dropped.
//   - Forget drops every record of a team.
//   - Close writes what is pending.
type Backend interface {
	Load(teamID string) Team
	Add(Delta)
	Forget(teamID string)
	Close() error
}

var _ Backend = (*Store)(nil)

// ReadAll reads every team's records from the spend.db in dir, read only,
// for carrying them over to another backend. found is false when there is
// no spend.db. A record that cannot be decoded is logged and skipped.
func ReadAll(dir string, log *slog.Logger) (teams map[string]Team, found bool, err error) {
	if log == nil {
		log = slog.Default()
	}
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, true, fmt.Errorf("reading %s: another gateway process holds it; stop it first", path)
		}
		return nil, true, fmt.Errorf("reading %s: %w", path, err)
	}
	defer db.Close()
	s := &Store{log: log}
	teams = map[string]Team{}
	err = db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketTeams)
		if root == nil {
			return nil
		}
		return root.ForEachBucket(func(name []byte) error {
			teamID := string(name)
			t := Team{Keys: map[string]*Record{}}
			err := root.Bucket(name).ForEach(func(k, v []byte) error {
				r := s.decodeRecord(teamID, k, v)
				if r == nil {
					return nil
				}
				if string(k) == teamRecord {
					t.Team = r
				} else if len(k) > 4 && string(k[:4]) == "key:" {
					t.Keys[string(k[4:])] = r
				} else {
					return nil
				}
				t.Found = true
				return nil
			})
			if t.Found {
				teams[teamID] = t
			}
			return err
		})
	})
	if err != nil {
		return nil, true, fmt.Errorf("reading %s: %w", path, err)
	}
	return teams, true, nil
}
