package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers/registry"
)

// The one-team configurations load: the pass-through one (the baseline's)
// without a problem, the one with bench-claude wherever the anthropic
// provider is in the registry, and otherwise with the unknown-provider
// error that makes the bench skip the Anthropic rows.
func TestSmallConfigLoads(t *testing.T) {
	t.Parallel()
	env := func(name string) (string, bool) {
		switch name {
		case "GATEWAY_MASTER_KEY":
			return masterKey, true
		case upstreamKeyEnv:
			return upstreamKey, true
		}
		return "", false
	}
	_, hasAnthropic := registry.Lookup("anthropic")
	for _, anthropic := range []bool{false, true} {
		dir := t.TempDir()
		if err := writeSmallConfig(dir, "http://127.0.0.1:1234", anthropic); err != nil {
			t.Fatal(err)
		}
		in, err := configs.ReadDirs(filepath.Join(dir, "gateway.yaml"), filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d"))
		if err != nil {
			t.Fatal(err)
		}
		_, problems := configs.Build(in, env)
		var msgs []string
		for _, p := range problems {
			msgs = append(msgs, p.String())
		}
		all := strings.Join(msgs, "\n")
		switch {
		case !anthropic || hasAnthropic:
			if len(problems) > 0 {
				t.Errorf("anthropic=%v: problems:\n%s", anthropic, all)
			}
		default:
			if !configs.HasErrors(problems) || !strings.Contains(all, `unknown provider "anthropic"`) {
				t.Errorf("without the anthropic provider, want the unknown-provider error, got:\n%s", all)
			}
		}
	}
}

func TestPairedRatio(t *testing.T) {
	t.Parallel()
	// Round 2 ran on a slow machine: both builds took twice as long. The
	// ratio of the medians sees the drift, each round's ratio does not.
	nw, base := []float64{10.5, 21, 10.5}, []float64{10, 20, 10}
	if got := pairedRatio(nw, base); math.Abs(got-1.05) > 1e-9 {
		t.Errorf("pairedRatio = %v, want 1.05", got)
	}
	// The second of a pair runs slower: new second in even rounds (+8%),
	// first in odd ones (-4%). The median of four such rounds would be
	// either group's or their midpoint by chance; the geometric mean is
	// the same whatever the order.
	alt := []float64{0.96, 1.08, 0.96, 1.08}
	want := math.Sqrt(0.96 * 1.08)
	if got := pairedRatio(alt, []float64{1, 1, 1, 1}); math.Abs(got-want) > 1e-9 {
		t.Errorf("pairedRatio (alternating) = %v, want %v", got, want)
	}
	if got := pairedRatio(nil, []float64{1}); !math.IsNaN(got) {
		t.Errorf("pairedRatio (no rounds) = %v, want NaN", got)
	}
	if got := pctPaired(math.NaN()); got != "n/a" {
		t.Errorf("pctPaired(NaN) = %q", got)
	}
}

func TestMiddleHalf(t *testing.T) {
	t.Parallel()
	// Ratios 0.9, 1.0, 1.1, 1.2, 1.3: quartiles 1.0 and 1.2.
	nw, base := []float64{13, 9, 12, 10, 11}, []float64{10, 10, 10, 10, 10}
	if got := middleHalf(nw, base); got != "100–120%" {
		t.Errorf("middleHalf = %q, want 100–120%%", got)
	}
	if got := middleHalf(nw[:3], base[:3]); got != "n/a" {
		t.Errorf("middleHalf (3 rounds) = %q, want n/a", got)
	}
	if got := quantile([]float64{1, 2}, 0.5); got != 1.5 {
		t.Errorf("quantile = %v, want 1.5", got)
	}
}
