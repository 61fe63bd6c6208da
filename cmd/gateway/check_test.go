package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of gateway check")

// TestCheckGolden runs `gateway check` on good and bad folders and
// compares its output (every format) and exit status with golden files.
func TestCheckGolden(t *testing.T) {
	t.Setenv("CHECK_TEST_MASTER_KEY", "sk-master-check")
	t.Setenv("CHECK_TEST_UPSTREAM_KEY", "sk-upstream-check")
	for _, v := range []string{"CHECK_TEST_SALT_KEY", "CHECK_TEST_AZURE_BASE", "CHECK_TEST_AZURE_KEY"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	for _, tc := range []struct {
		name   string
		dir    string
		extra  []string
		format string
		code   int
	}{
		{"good", "good", nil, "text", 0},
		{"good", "good", nil, "json", 0},
		{"bad", "bad", nil, "text", 1},
		{"bad", "bad", nil, "json", 1},
		{"bad", "bad", nil, "github", 1},
		{"nosecrets", "nosecrets", nil, "text", 1},
		{"nosecrets-skip-env", "nosecrets", []string{"--skip-env"}, "text", 0},
	} {
		t.Run(tc.name+"."+tc.format, func(t *testing.T) {
			d := filepath.Join("testdata", "check", tc.dir)
			args := append([]string{"check", "--config", filepath.Join(d, "gateway.yaml"),
				"--teams-dir", filepath.Join(d, "teams.d"), "--models-dir", filepath.Join(d, "models.d"),
				"--format", tc.format}, tc.extra...)
			var stdout, stderr bytes.Buffer
			code := run(args, nil, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr: %s", stderr.String())
			}
			golden := filepath.Join("testdata", "check", tc.name+"."+tc.format+".golden")
			if *updateGolden {
				if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestCheckGolden -update)", err)
			}
			if got := stdout.String(); got != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
			if tc.format == "json" {
				var rep checkReport
				if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
					t.Fatalf("not JSON: %v", err)
				}
				if rep.Valid != (tc.code == 0) {
					t.Errorf("valid = %v with exit %d", rep.Valid, tc.code)
				}
			}
		})
	}
}

// TestCheckMatchesServer: the problems check prints are the ones the
// server logs when it refuses to start on the same folders.
func TestCheckMatchesServer(t *testing.T) {
	t.Setenv("CHECK_TEST_MASTER_KEY", "sk-master-check")
	d := filepath.Join("testdata", "check", "bad")
	flags := []string{"--config", filepath.Join(d, "gateway.yaml"), "--teams-dir", filepath.Join(d, "teams.d"), "--models-dir", filepath.Join(d, "models.d")}
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"check"}, flags...), nil, &stdout, &stderr); code != 1 {
		t.Fatalf("check exit %d", code)
	}
	var logs bytes.Buffer
	code := serve(t.Context(), append(flags, "--addr", "127.0.0.1:0", "--state-dir", t.TempDir()), &logs, nil)
	if code != 1 {
		t.Fatalf("serve exit %d on an invalid configuration", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	for _, l := range lines[:len(lines)-1] {
		if strings.Contains(l, ": warning: ") {
			continue
		}
		if !strings.Contains(logs.String(), strings.ReplaceAll(strings.ReplaceAll(l, `\`, `\\`), `"`, `\"`)) {
			t.Errorf("the server did not log %q:\n%s", l, logs.String())
		}
	}
}

func TestCheckUsage(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--format", "xml"},
		{"check", "--no-such-flag"},
		{"check", "extra"},
		{"check", "--config", "testdata/check/does-not-exist.yaml"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, nil, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
