package confstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
)

// TestOneLiveEvent: start-up, a write and a rescan each reach the
// listeners once, in order, as one event whose snapshot is then the one
// Snapshot returns; a refused rescan reaches Refused; a listener's error
// refuses a write and restores its files.
func TestOneLiveEvent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	td, md := filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d")
	team := filepath.Join(td, "a.yaml")
	mustWrite(t, team, "team_id: "+tid+"\n")
	var log []string
	var refusals []string
	var failNext error
	record := func(name string) Listener {
		return Listener{Name: name, Live: func(e Event) error {
			if name == "first" && failNext != nil {
				return failNext
			}
			prev := "none"
			if e.Previous != nil {
				prev = e.Previous.Hash[:8]
			}
			entry := name + " " + e.Kind + " " + e.Reason + " " + prev + "->" + e.Snapshot.Hash[:8]
			if e.Write != nil {
				entry += " write " + e.Write.Endpoint
			}
			log = append(log, entry)
			return nil
		}, Refused: func(reason string, st Status) {
			refusals = append(refusals, name+" "+reason+" "+st.LastOutcome)
		}}
	}
	st, problems, err := Open(Options{TeamsDir: td, ModelsDir: md, Log: quietLog(), Listeners: []Listener{record("first"), record("second")}})
	if err != nil || st == nil {
		t.Fatal(err, problems)
	}
	h0 := st.Snapshot().Hash[:8]
	update := func(alias string) (*configs.Snapshot, error) {
		return st.Mutate(Write{Endpoint: "team/update"}, func(_ *configs.Snapshot, files *Files) ([]Change, error) {
			data, err := files.Read(team)
			return []Change{{Path: team, Data: append(data, "team_alias: "+alias+"\n"...)}}, err
		})
	}
	snap, err := update("x")
	if err != nil || st.Snapshot() != snap {
		t.Fatalf("write: %v; Snapshot is the written one: %v", err, st.Snapshot() == snap)
	}
	h1 := snap.Hash[:8]
	mustWrite(t, team, "team_id: "+tid+"\nteam_alias: by hand\n")
	if _, err := st.Rescan("test"); err != nil {
		t.Fatal(err)
	}
	h2 := st.Snapshot().Hash[:8]
	want := []string{
		"first startup startup none->" + h0, "second startup startup none->" + h0,
		"first write write team/update " + h0 + "->" + h1 + " write team/update", "second write write team/update " + h0 + "->" + h1 + " write team/update",
		"first rescan test " + h1 + "->" + h2, "second rescan test " + h1 + "->" + h2,
	}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
	if s := st.Status(); s.ConfigHash[:8] != h2 || s.LastOutcome != OutcomeApplied || s.LastReason != "test" {
		t.Errorf("status after the rescan: %+v", s)
	}
	// A refused rescan.
	mustWrite(t, team, "team_id: "+tid+"\nbogus: 1\n")
	if _, err := st.Rescan("bad edit"); err == nil {
		t.Fatal("an invalid file was applied")
	}
	if strings.Join(refusals, ",") != "first bad edit rejected,second bad edit rejected" || st.Snapshot().Hash[:8] != h2 {
		t.Errorf("refusals %v", refusals)
	}
	mustWrite(t, team, "team_id: "+tid+"\n")
	if _, err := st.Rescan("fixed"); err != nil {
		t.Fatal(err)
	}
	// A listener refuses a write: nothing changes, the file is restored.
	before, _ := os.ReadFile(team)
	live := st.Snapshot()
	n := len(log)
	failNext = errors.New("no")
	if _, err := update("refused"); err == nil || !strings.Contains(err.Error(), "first: no") {
		t.Fatalf("write refused by a listener: %v", err)
	}
	failNext = nil
	if after, _ := os.ReadFile(team); string(after) != string(before) || st.Snapshot() != live || len(log) != n {
		t.Errorf("after a refused write: file %q (was %q), snapshot changed %v, events %v", after, before, st.Snapshot() != live, log[n:])
	}
	if l := litterIn(t, dir); len(l) > 0 {
		t.Errorf("temp files left: %v", l)
	}
}
