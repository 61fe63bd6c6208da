package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	t.Parallel()
	info := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}
	if got := versionString(info, true); got != "gateway v1.2.3 (commit abc123, modified)" {
		t.Errorf("got %q", got)
	}
	if got := versionString(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true); got != "gateway (devel) (commit unknown)" {
		t.Errorf("got %q", got)
	}
	if got := versionString(nil, false); got != "gateway unknown (commit unknown)" {
		t.Errorf("got %q", got)
	}
}

// gateway --help lists the subcommands, not only serve's flags.
func TestHelpListsCommands(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"--help", "-h", "help"} {
		var out, errOut bytes.Buffer
		if code := run([]string{arg}, nil, &out, &errOut); code != 0 {
			t.Fatalf("%s: exit %d: %s", arg, code, errOut.String())
		}
		for _, cmd := range []string{"serve", "check", "encrypt", "rotate-salt", "import-litellm", "version"} {
			if !strings.Contains(out.String(), "\n  "+cmd) {
				t.Errorf("%s: %q not listed:\n%s", arg, cmd, out.String())
			}
		}
	}
}
