package confstore

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// crashScenario is a multi-file write: the files before it and the
// changes its callback returns (in the callback's order, not the order
// they are written in).
type crashScenario struct {
	name    string
	files   map[string]string // relative to the test directory
	changes func(files *Files, dir string) []Change
}

const (
	teamT = "team-t"
	teamU = "team-u"
)

func crashTeam(id string, aliases ...string) string {
	s := "team_id: " + id + "\n"
	if len(aliases) > 0 {
		s += "model_aliases:\n"
		for _, a := range aliases {
			name, target, _ := strings.Cut(a, "=")
			s += "  " + name + ": " + target + "\n"
		}
	}
	return s
}

func crashModel(team, id, public string) string {
	return crashModelItem(team, id, public)
}

func crashModelItem(team, id, public string) string {
	info, name := "id: "+id, id
	if team != "" {
		info += ", team_id: " + team + ", team_public_model_name: " + public
		name = team + "-" + id
	}
	return fmt.Sprintf("model_list:\n  - model_name: %s\n    litellm_params: {model: mock/x}\n    model_info: {%s}\n", name, info)
}

func crashScenarios() []crashScenario {
	const models = 16
	base := map[string]string{
		"teams.d/t.yaml":         crashTeam(teamT, "fast=t-0"),
		"teams.d/u.yaml":         crashTeam(teamU, "glob=g"),
		"models.d/global/g.yaml": crashModel("", "g", ""),
		"models.d/u/u.yaml":      crashModel(teamU, "u-0", "u-0"),
		// A hand-written file shared by both teams.
		"models.d/shared.yaml": crashModelItem(teamT, "t-shared", "t-shared") +
			strings.TrimPrefix(crashModelItem(teamU, "u-shared", "u-shared"), "model_list:\n"),
	}
	for i := range models {
		base[fmt.Sprintf("models.d/t/t-%d.yaml", i)] = crashModel(teamT, fmt.Sprintf("t-%d", i), fmt.Sprintf("t-%d", i))
	}
	p := filepath.Join
	return []crashScenario{{
		// What /team/delete returns: the team file first, then its models.
		name:  "team/delete of a team with many models",
		files: base,
		changes: func(files *Files, dir string) []Change {
			out := []Change{{Path: p(dir, "teams.d/t.yaml")}}
			for i := range models {
				out = append(out, Change{Path: p(dir, fmt.Sprintf("models.d/t/t-%d.yaml", i))})
			}
			data, err := files.Read(p(dir, "models.d/shared.yaml"))
			if err != nil {
				panic(err)
			}
			edited, _, err := configs.RemoveDeployments(data, "t-shared")
			if err != nil {
				panic(err)
			}
			return append(out, Change{Path: p(dir, "models.d/shared.yaml"), Data: edited})
		},
	}, {
		name:  "team/delete of two teams",
		files: base,
		changes: func(files *Files, dir string) []Change {
			out := []Change{{Path: p(dir, "teams.d/t.yaml")}, {Path: p(dir, "teams.d/u.yaml")}, {Path: p(dir, "models.d/shared.yaml")}, {Path: p(dir, "models.d/u/u.yaml")}}
			for i := range models {
				out = append(out, Change{Path: p(dir, fmt.Sprintf("models.d/t/t-%d.yaml", i))})
			}
			return out
		},
	}, {
		// A new team with its models, the models listed first.
		name:  "a new team and its models",
		files: base,
		changes: func(files *Files, dir string) []Change {
			var out []Change
			for i := range 5 {
				out = append(out, Change{Path: p(dir, fmt.Sprintf("models.d/v/v-%d.yaml", i)), Data: []byte(crashModel("team-v", fmt.Sprintf("v-%d", i), fmt.Sprintf("v-%d", i)))})
			}
			return append(out, Change{Path: p(dir, "teams.d/v.yaml"), Data: []byte(crashTeam("team-v"))})
		},
	}, {
		// A new team whose aliases name the models created with it.
		name:  "a new team with aliases to its new models",
		files: base,
		changes: func(files *Files, dir string) []Change {
			return []Change{
				{Path: p(dir, "teams.d/w.yaml"), Data: []byte(crashTeam("team-w", "a=w-0", "b=w-1"))},
				{Path: p(dir, "models.d/w/w-0.yaml"), Data: []byte(crashModel("team-w", "w-0", "w-0"))},
				{Path: p(dir, "models.d/w/w-1.yaml"), Data: []byte(crashModel("team-w", "w-1", "w-1"))},
			}
		},
	}, {
		// A new model and an alias to it, the alias listed first.
		name:  "an alias to a new model",
		files: base,
		changes: func(files *Files, dir string) []Change {
			return []Change{
				{Path: p(dir, "teams.d/t.yaml"), Data: []byte(crashTeam(teamT, "fast=t-0", "new=t-new"))},
				{Path: p(dir, "models.d/t/t-new.yaml"), Data: []byte(crashModel(teamT, "t-new", "t-new"))},
			}
		},
	}, {
		// A model removed with the alias that named it, the model first.
		name:  "an aliased model removed",
		files: base,
		changes: func(files *Files, dir string) []Change {
			return []Change{
				{Path: p(dir, "models.d/t/t-0.yaml")},
				{Path: p(dir, "teams.d/t.yaml"), Data: []byte(crashTeam(teamT))},
			}
		},
	}}
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		mustWrite(t, filepath.Join(dir, name), files[name])
	}
}

// loads reads and builds the configuration on disk as a restart would.
func loads(dir string) error {
	in, err := configs.ReadDirs("", filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d"))
	if err != nil {
		return err
	}
	if _, problems := configs.Build(in, nil); configs.HasErrors(problems) {
		var msgs []string
		for _, p := range problems {
			if !p.Warning {
				msgs = append(msgs, p.String())
			}
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	return nil
}

// TestCrashAtEveryStepLoads (issue 11, observation 5): a multi-file write
// stopped after any one of its file steps, as by kill -9, leaves files
// that load, whatever order the write's callback listed them in.
func TestCrashAtEveryStepLoads(t *testing.T) {
	t.Parallel()
	for _, sc := range crashScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			for crashAfter := 0; ; crashAfter++ {
				dir := t.TempDir()
				writeTree(t, dir, sc.files)
				st := openStore(t, filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d"))
				st.afterStep = func(step int, c Change) bool { return step != crashAfter }
				_, err := st.Mutate(Write{Endpoint: "test"}, func(_ *configs.Snapshot, files *Files) ([]Change, error) {
					return sc.changes(files, dir), nil
				})
				if err == nil {
					break // the write has fewer steps: all were tried
				}
				if !errors.Is(err, errCrashed) {
					t.Fatalf("crash after step %d: Mutate gave %v", crashAfter, err)
				}
				if err := loads(dir); err != nil {
					t.Fatalf("crash after step %d: the files on disk do not load: %v", crashAfter+1, err)
				}
			}
			// Uninterrupted, the write goes through.
			dir := t.TempDir()
			writeTree(t, dir, sc.files)
			st := openStore(t, filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d"))
			if _, err := st.Mutate(Write{Endpoint: "test"}, func(_ *configs.Snapshot, files *Files) ([]Change, error) {
				return sc.changes(files, dir), nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := loads(dir); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFailedWriteRestoresEveryFile: a write whose k-th file changed on
// disk answers ChangedError and restores the files it already changed.
func TestFailedWriteRestoresEveryFile(t *testing.T) {
	t.Parallel()
	sc := crashScenarios()[0]
	dir := t.TempDir()
	writeTree(t, dir, sc.files)
	st := openStore(t, filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d"))
	const name = "models.d/t/t-12.yaml"
	hand := filepath.Join(dir, name)
	// A model file the write removes is edited by hand while the write
	// runs (after its early check, before its swap).
	st.afterStep = func(step int, c Change) bool {
		if step == 3 {
			replaceBy(t, hand, sc.files[name]+"# by hand\n")
		}
		return true
	}
	_, err := st.Mutate(Write{Endpoint: "test"}, func(_ *configs.Snapshot, files *Files) ([]Change, error) {
		return sc.changes(files, dir), nil
	})
	var changed *ChangedError
	if !errors.As(err, &changed) || changed.Path != hand {
		t.Fatalf("write over a hand edit: %v", err)
	}
	want := maps.Clone(sc.files)
	want[name] += "# by hand\n"
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != data {
			t.Errorf("%s after the failed write: %q %v", name, got, err)
		}
	}
	if l := litterIn(t, dir); len(l) > 0 {
		t.Errorf("temp files left: %v", l)
	}
}

func replaceBy(t *testing.T, path, data string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".hand-"+filepath.Base(path))
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func litterIn(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && configs.IsLitter(e.Name()) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestHandEditsRacingWritesLoseNone (issue 11, observation 6): hand
// edits made the way editors and git make them (write a temp file, rename
// it over the target) race API writes to the same team file; every hand
// edit is kept: each either lands before an API write reads the file (and
// is in what it writes), or makes that write fail with ChangedError.
func TestHandEditsRacingWritesLoseNone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	td, md := filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d")
	team := filepath.Join(td, "a.yaml")
	mustWrite(t, team, "team_id: "+tid+"\n")
	st := openStore(t, td, md)
	const edits = 200
	deadline := time.Now().Add(3 * time.Second)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var ok, conflicts atomic.Int32
	wg.Add(3)
	go func() { // the watcher
		defer wg.Done()
		for !stop.Load() {
			_, _ = st.RescanFiles("test", []string{team})
		}
	}()
	go func() { // the API
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			_, err := st.Mutate(Write{Endpoint: "team/update"}, func(_ *configs.Snapshot, files *Files) ([]Change, error) {
				data, err := files.Read(team)
				if err != nil {
					return nil, err
				}
				return []Change{{Path: team, Data: fmt.Appendf(data, "# api %d\n", i)}}, nil
			})
			var changed *ChangedError
			switch {
			case err == nil:
				ok.Add(1)
			case errors.As(err, &changed):
				conflicts.Add(1)
			default:
				t.Error(err)
				return
			}
		}
	}()
	made, transient := 0, 0
	var lostNow []int
	go func() { // the editor: read, add a line, write a temp file, rename
		defer wg.Done()
		defer stop.Store(true)
		read := func() []byte {
			data, err := os.ReadFile(team)
			if err != nil {
				t.Error(err)
			}
			return data
		}
		for i := 0; i < edits && time.Now().Before(deadline); i++ {
			data := read()
			if i > 0 && !strings.Contains(string(data), fmt.Sprintf("# hand %d\n", i-1)) {
				// Either an API write's content seen during its check
				// (it is swapped back within microseconds, or later when
				// the writer is descheduled on a loaded machine) or a
				// lost edit.
				mine := fmt.Sprintf("# hand %d\n", i-1)
				for wait := time.Now().Add(time.Second); time.Now().Before(wait) && !strings.Contains(string(data), mine); {
					time.Sleep(time.Millisecond)
					data = read()
				}
				if !strings.Contains(string(data), mine) {
					lostNow = append(lostNow, i-1)
				} else {
					transient++
				}
			}
			tmp := filepath.Join(td, fmt.Sprintf(".a.yaml.swp%d", i))
			if err := os.WriteFile(tmp, fmt.Appendf(data, "# hand %d\n", i), 0o644); err != nil {
				t.Error(err)
				return
			}
			if err := os.Rename(tmp, team); err != nil {
				t.Error(err)
				return
			}
			made++
			time.Sleep(time.Duration(i%5) * 200 * time.Microsecond)
		}
	}()
	wg.Wait()
	final, err := os.ReadFile(team)
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for i := range made {
		if !strings.Contains(string(final), fmt.Sprintf("# hand %d\n", i)) {
			lost++
		}
	}
	t.Logf("%d hand edits, %d API writes applied, %d refused with 409; the editor read %d API writes during their check", made, ok.Load(), conflicts.Load(), transient)
	if len(lostNow) > 0 {
		t.Errorf("hand edits %v were overwritten", lostNow)
	}
	if lost > 0 {
		t.Errorf("%d of %d hand edits lost", lost, made)
	}
	if ok.Load() == 0 {
		t.Errorf("no API write went through")
	}
}
