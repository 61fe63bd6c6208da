package confstore

import (
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/llmgateway/gateway/configs"
)

const tid = "e59e2671-a064-436a-a0fa-16ae96e5a0a1"

// TestOwnWriteIsNotAppliedTwice: after Mutate, a rescan (the watcher's
// event about the gateway's own write) finds the live configuration on
// disk and applies nothing.
func TestOwnWriteIsNotAppliedTwice(t *testing.T) {
	dir := t.TempDir()
	td, md := filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d")
	mustWrite(t, filepath.Join(td, "a.yaml"), "team_id: "+tid+"\n")
	var applies atomic.Int32
	st, problems, err := Open(Options{TeamsDir: td, ModelsDir: md, Log: quietLog(),
		Listeners: []Listener{{Name: "test", Live: func(Event) error { applies.Add(1); return nil }}}})
	if err != nil || st == nil {
		t.Fatal(err, problems)
	}
	if _, err := st.Mutate(Write{Endpoint: "team/update"}, func(*configs.Snapshot, *Files) ([]Change, error) {
		return []Change{{Path: filepath.Join(td, "a.yaml"), Data: []byte("team_id: " + tid + "\nteam_alias: x\n")}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if applies.Load() != 2 {
		t.Fatalf("applies after the write: %d", applies.Load())
	}
	s, err := st.Rescan("test")
	if err != nil || s.LastOutcome != OutcomeUnchanged || applies.Load() != 2 {
		t.Fatalf("rescan after the own write: %v %s, applies %d", err, s.LastOutcome, applies.Load())
	}
	// A real edit is applied once, parsing only the changed file.
	mustWrite(t, filepath.Join(td, "a.yaml"), "team_id: "+tid+"\nteam_alias: y\n")
	mustWrite(t, filepath.Join(md, "m.yaml"), "model_list:\n  - model_name: g\n    litellm_params: {model: mock/g}\n")
	if s, err := st.Rescan("test"); err != nil || s.LastOutcome != OutcomeApplied || applies.Load() != 3 {
		t.Fatalf("rescan after an edit: %v %s, applies %d", err, s.LastOutcome, applies.Load())
	}
	if hits, misses := st.cache.Stats(); hits != 1 || misses != 2 {
		t.Errorf("parse cache: %d hits, %d misses; want 1 (the embedded config) and 2", hits, misses)
	}
}

// TestCachedBuildMatchesBuild: the cached build gives Build's snapshot
// hash and problems, across edits, invalid states and secrets.
func TestCachedBuildMatchesBuild(t *testing.T) {
	env := func(n string) (string, bool) { v, ok := map[string]string{"K": "sk-1"}[n]; return v, ok }
	c := configs.NewParseCache()
	steps := []configs.Input{
		{Teams: []configs.File{{Path: "t/a.yaml", Data: []byte("team_id: a\n")}},
			Models: []configs.File{{Path: "m/a.yaml", Data: []byte("model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, api_key: os.environ/K}\n    model_info: {team_id: a}\n")}}},
		{Teams: []configs.File{{Path: "t/a.yaml", Data: []byte("team_id: a\nbad: [\n")}},
			Models: []configs.File{{Path: "m/a.yaml", Data: []byte("model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, api_key: os.environ/K}\n    model_info: {team_id: a}\n")}}},
		{Teams: []configs.File{{Path: "t/a.yaml", Data: []byte("team_id: a\n---\nteam_id: b\n")}}},
		{Teams: []configs.File{{Path: "t/a.yaml", Data: []byte("team_id: a\n")}},
			Models: []configs.File{{Path: "m/a.yaml", Data: []byte("model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, api_key: os.environ/K}\n    model_info: {team_id: a}\n")}}},
	}
	for round := range 2 {
		for i, in := range steps {
			s1, p1 := configs.Build(in, env)
			s2, p2 := c.Build(in, env)
			if (s1 == nil) != (s2 == nil) || (s1 != nil && s1.Hash != s2.Hash) || len(p1) != len(p2) {
				t.Fatalf("round %d step %d: Build %v %v, cached %v %v", round, i, s1 != nil, p1, s2 != nil, p2)
			}
			for j := range p1 {
				if p1[j] != p2[j] {
					t.Errorf("round %d step %d: problem %d: %v vs %v", round, i, j, p1[j], p2[j])
				}
			}
			if s1 != nil && configs.InputHash(in) != s1.Hash {
				t.Errorf("InputHash differs from Snapshot.Hash")
			}
			if s1 != nil && s2.Global == nil && s2.TeamDeployments["a"][0].APIKey != "sk-1" {
				t.Errorf("secret not resolved in the cached build")
			}
		}
	}
}
