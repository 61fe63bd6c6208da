package main

import (
	"bytes"
	"strings"
	"testing"
)

// Starting where teams.d/ or models.d/ do not exist says so, and a wrong
// --models-dir is named in gateway check's output before the problems it
// causes.
func TestMissingConfigDirsAreNamed(t *testing.T) {
	args, _ := emptyGateway(t)
	g := startGateway(t, args...)
	logs := g.logsSoFar(t)
	for _, want := range []string{"does not exist; no teams are configured", "does not exist; no team or global model is loaded"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no %q in the log:\n%s", want, logs)
		}
	}
	var out, errOut bytes.Buffer
	check([]string{"--teams-dir", "testdata/check/good/teams.d", "--models-dir", "/nonexistent-models"}, &out, &errOut)
	if first, _, _ := strings.Cut(out.String(), "\n"); !strings.Contains(first, "/nonexistent-models does not exist") {
		t.Errorf("gateway check does not start with the missing directory:\n%s%s", out.String(), errOut.String())
	}
}
