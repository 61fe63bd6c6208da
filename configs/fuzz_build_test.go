package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fuzz targets decode arbitrary bytes as a teams.d or models.d file
// through the real build path (Build, as a load or a reload runs it) and
// check that it never panics and that every error has a position
// (path:line:col) in a file of the input. The seeds are the testdata
// files, good and bad. `go test` runs the seeds; fuzz with e.g.
//
//	go test ./configs -run '^$' -fuzz FuzzBuildTeamFile -fuzztime 30s

func fuzzSeeds(f *testing.F, sub string) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*", sub, "*.y*ml"))
	deeper, _ := filepath.Glob(filepath.Join("testdata", "*", "*", sub, "*", "*.y*ml"))
	for _, p := range append(files, deeper...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if len(files)+len(deeper) == 0 {
		f.Fatalf("no seed files under testdata/*/*/%s", sub)
	}
	for _, s := range []string{"", "---\n", "team_id: [\n", "a: &a [*a]\n", "model_list:\n  - *x\n", "\x00", "{", "- 1\n- 2\n", "team_id: x\n---\nteam_id: y\n"} {
		f.Add([]byte(s))
	}
}

var fuzzEnv = func(name string) (string, bool) {
	switch name {
	case "GATEWAY_MASTER_KEY":
		return "sk-master-fuzz", true
	case "GATEWAY_SALT_KEY":
		return "salt-fuzz-0123456789", true
	case "OPENAI_API_KEY", "AZURE_API_KEY":
		return "sk-upstream-fuzz", true
	}
	return "", false
}

// checkPositions fails on an error without a position in a file of in.
func checkPositions(t *testing.T, in Input, problems []Problem) {
	t.Helper()
	known := map[string]bool{in.config().Path: true}
	for _, f := range append(append([]File{}, in.Teams...), in.Models...) {
		known[f.Path] = true
	}
	for _, p := range problems {
		if p.Warning {
			continue
		}
		if !known[p.File] || p.Line < 1 || p.Col < 1 {
			t.Errorf("error without a position in the input: %q (file %q line %d col %d)", p.String(), p.File, p.Line, p.Col)
		}
		if strings.TrimSpace(p.Message) == "" {
			t.Errorf("error without a message at %s", p.Pos)
		}
	}
}

func FuzzBuildTeamFile(f *testing.F) {
	fuzzSeeds(f, "teams.d")
	f.Fuzz(func(t *testing.T, data []byte) {
		in := Input{
			Teams:  []File{{Path: "teams.d/fuzz.yaml", Data: data}},
			Models: []File{{Path: "models.d/global/g.yaml", Data: []byte("model_list:\n  - model_name: g\n    litellm_params: {model: mock/g}\n")}},
		}
		snap, problems := Build(in, fuzzEnv)
		checkPositions(t, in, problems)
		if snap == nil && !HasErrors(problems) {
			t.Errorf("no snapshot and no error")
		}
		// A cached build (a reload) agrees.
		c := NewParseCache()
		for range 2 {
			s2, p2 := c.Build(in, fuzzEnv)
			if (s2 == nil) != (snap == nil) || len(p2) != len(problems) {
				t.Errorf("cached build differs: %v vs %v", p2, problems)
			}
		}
	})
}

func FuzzBuildModelFile(f *testing.F) {
	fuzzSeeds(f, "models.d")
	f.Fuzz(func(t *testing.T, data []byte) {
		in := Input{
			Teams:  []File{{Path: "teams.d/t.yaml", Data: []byte("team_id: e59e2671-a064-436a-a0fa-16ae96e5a0a1\n")}},
			Models: []File{{Path: "models.d/fuzz.yaml", Data: data}},
		}
		snap, problems := Build(in, fuzzEnv)
		checkPositions(t, in, problems)
		if snap == nil && !HasErrors(problems) {
			t.Errorf("no snapshot and no error")
		}
		c := NewParseCache()
		for range 2 {
			s2, p2 := c.Build(in, fuzzEnv)
			if (s2 == nil) != (snap == nil) || len(p2) != len(problems) {
				t.Errorf("cached build differs: %v vs %v", p2, problems)
			}
		}
	})
}

// FuzzBuildConfigFile fuzzes the --config file: its settings, the routing
// ones (router_settings, litellm_settings) included.
func FuzzBuildConfigFile(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*", "gateway.yaml"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "router_settings: {fallbacks: [{g: [g]}]}\n", "router_settings: {model_group_alias: {a: b, b: a}}\n",
		"router_settings: {model_group_alias: {a: {model: g, hidden: true}}}\nlitellm_settings: {num_retries: 3, fallbacks: [{g: [h]}]}\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := Input{
			Config: File{Path: "gateway.yaml", Data: data},
			Teams:  []File{{Path: "teams.d/t.yaml", Data: []byte("team_id: t\nfallbacks: [{m: [g]}]\n")}},
			Models: []File{{Path: "models.d/g.yaml", Data: []byte("model_list:\n  - model_name: g\n    litellm_params: {model: mock/g, weight: 2, order: 1}\n  - model_name: h\n    litellm_params: {model: mock/h}\n  - model_name: m\n    litellm_params: {model: mock/m}\n    model_info: {team_id: t}\n")}},
		}
		snap, problems := Build(in, fuzzEnv)
		checkPositions(t, in, problems)
		if snap == nil && !HasErrors(problems) {
			t.Errorf("no snapshot and no error")
		}
		c := NewParseCache()
		for range 2 {
			s2, p2 := c.Build(in, fuzzEnv)
			if (s2 == nil) != (snap == nil) || len(p2) != len(problems) {
				t.Errorf("cached build differs: %v vs %v", p2, problems)
			}
		}
	})
}
