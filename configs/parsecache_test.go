package configs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestParseCacheMatchesBuild: for every testdata case, a cached build, cold
// and then warm, gives exactly Build's snapshot and problems.
func TestParseCacheMatchesBuild(t *testing.T) {
	for _, kind := range []string{"good", "bad"} {
		dirs, err := os.ReadDir(filepath.Join("testdata", kind))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range dirs {
			if !e.IsDir() {
				continue
			}
			dir := filepath.Join("testdata", kind, e.Name())
			t.Run(kind+"/"+e.Name(), func(t *testing.T) {
				fsys := os.DirFS(dir)
				cfg := ""
				if _, err := os.Stat(filepath.Join(dir, "gateway.yaml")); err == nil {
					cfg = "gateway.yaml"
				}
				in, err := ReadFS(fsys, cfg, "teams.d", "models.d")
				if err != nil {
					t.Fatal(err)
				}
				env := testEnv(t, dir)
				want, wantPs := Build(in, env)
				c := NewParseCache()
				for round := range 2 {
					got, gotPs := c.Build(in, env)
					if !reflect.DeepEqual(gotPs, wantPs) {
						t.Errorf("round %d: problems\n%v\nwant\n%v", round, gotPs, wantPs)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("round %d: the snapshots differ", round)
					}
				}
				if hits, misses := c.Stats(); misses != 0 || hits != 1+len(in.Teams)+len(in.Models) {
					t.Errorf("warm build: %d hits, %d misses", hits, misses)
				}
			})
		}
	}
}

// TestParseCacheNeverModifiesASnapshot: a later build that resolves a
// secret differently makes a new deployment; the earlier snapshot keeps
// its own, and unchanged files share their objects.
func TestParseCacheNeverModifiesASnapshot(t *testing.T) {
	in := Input{
		Teams: []File{{Path: "t/a.yaml", Data: []byte("team_id: a\n")}},
		Models: []File{{Path: "m/a.yaml", Data: []byte("model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, api_key: os.environ/K, api_base: os.environ/B}\n    model_info: {team_id: a}\n" +
			"  - model_name: y\n    litellm_params: {model: openai/y}\n    model_info: {team_id: a}\n")}},
	}
	envOf := func(m map[string]string) func(string) (string, bool) {
		return func(n string) (string, bool) { v, ok := m[n]; return v, ok }
	}
	c := NewParseCache()
	s1, ps := c.Build(in, envOf(map[string]string{"K": "sk-1", "B": "https://one.example"}))
	if s1 == nil {
		t.Fatal(ps)
	}
	s2, ps := c.Build(in, envOf(map[string]string{"K": "sk-2", "B": "https://one.example"}))
	if s2 == nil {
		t.Fatal(ps)
	}
	d1, d2 := s1.TeamDeployments["a"], s2.TeamDeployments["a"]
	if d1[0].APIKey != "sk-1" || d2[0].APIKey != "sk-2" || d1[0] == d2[0] {
		t.Errorf("api keys: %q %q (same object %v)", d1[0].APIKey, d2[0].APIKey, d1[0] == d2[0])
	}
	if d1[0].LiteLLMParams.APIBase != "https://one.example" || d1[0].LiteLLMParams.APIKey != "os.environ/K" {
		t.Errorf("first snapshot modified: %+v", d1[0].LiteLLMParams)
	}
	if d1[1] != d2[1] || s1.Teams["a"] != s2.Teams["a"] {
		t.Errorf("unchanged objects are not shared")
	}
	s3, _ := c.Build(in, envOf(map[string]string{"K": "sk-2", "B": "https://one.example"}))
	if s3.TeamDeployments["a"][0] != d2[0] {
		t.Errorf("an unchanged resolution made a new object")
	}
	if _, ps := c.Build(in, envOf(map[string]string{"K": "sk-2"})); !HasErrors(ps) {
		t.Errorf("unset B: no error: %v", ps)
	}
	if d2[0].LiteLLMParams.APIBase != "https://one.example" {
		t.Errorf("second snapshot modified by a failed build: %+v", d2[0].LiteLLMParams)
	}
}

// TestParseCachePrune: files given by sum alone build from the cache while
// their entries are kept; after Prune drops them, the build fails with an
// error instead of decoding an empty file in their place.
func TestParseCachePrune(t *testing.T) {
	team := File{Path: "teams.d/a.yaml", Data: []byte("team_id: a\n")}.WithSum()
	other := File{Path: "teams.d/b.yaml", Data: []byte("team_id: b\n")}.WithSum()
	c := NewParseCache()
	if snap, ps := c.Build(Input{Teams: []File{team, other}}, envMap(nil)); snap == nil {
		t.Fatal(ps)
	}
	bySum := Input{Teams: []File{{Path: team.Path, Sum: team.Sum}}}
	c.Prune(bySum)
	snap, ps := c.Build(bySum, envMap(nil))
	if snap == nil || snap.Teams["a"] == nil || len(snap.Teams) != 1 {
		t.Fatalf("build from sums: %v %v", snap, ps)
	}
	if snap.Hash != InputHash(Input{Teams: []File{team}}) {
		t.Error("a build from sums hashes differently from one from bytes")
	}
	gone := Input{Teams: []File{{Path: other.Path, Sum: other.Sum}}}
	snap, ps = c.Build(gone, envMap(nil))
	if snap != nil || !HasErrors(ps) || !strings.Contains(ps[len(ps)-1].String(), "teams.d/b.yaml:1:1: internal error: the content of this file is no longer in memory") {
		t.Fatalf("build of a pruned file from its sum: %v %v", snap, ps)
	}
}
