package metrics

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape returns the exposition and the value of each series in it.
func scrape(t *testing.T) (string, map[string]float64) {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(true).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	values := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if i := strings.LastIndexByte(line, ' '); i > 0 && !strings.HasPrefix(line, "#") {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				values[line[:i]] = v
			}
		}
	}
	return body, values
}

// TestExposition: each recorder moves its series by what it recorded. The
// registry is the process's, so the test compares before and after (it
// passes with -count=2).
func TestExposition(t *testing.T) {
	_, before := scrape(t)
	RequestStarted()
	RequestDone("/v1/chat/completions", 200, "team-a", "", time.Millisecond)
	ObserveUpstream("openai", 2*time.Millisecond, 504)
	Tokens("team-a", "m", 12, 7)
	RateLimited("team-a", "rpm")
	BudgetExceeded("team-a")
	Reload(true, "abc123")
	SetTeamActors(func() int { return 3 })

	_, after := scrape(t)
	for _, want := range []struct {
		series string
		delta  float64
	}{
		{`gateway_requests_total{model="unknown",route="/v1/chat/completions",status="200",team="team-a"}`, 1},
		{`gateway_upstream_errors_total{kind="timeout",provider="openai"}`, 1},
		{`gateway_tokens_total{direction="in",model="m",team="team-a"}`, 12},
		{`gateway_tokens_total{direction="out",model="m",team="team-a"}`, 7},
		{`gateway_rejections_total{reason="budget",team="team-a"}`, 1},
		{`gateway_rejections_total{reason="rpm",team="team-a"}`, 1},
		{`gateway_config_reloads_total{result="success"}`, 1},
	} {
		v, ok := after[want.series]
		if !ok || v-before[want.series] != want.delta {
			t.Errorf("%s: %v -> %v (present %v), want +%v", want.series, before[want.series], v, ok, want.delta)
		}
	}
	for series, want := range map[string]float64{
		`gateway_config_info{hash="abc123"}`: 1,
		`gateway_team_actors`:                3,
		`gateway_requests_in_flight`:         0,
	} {
		if v, ok := after[series]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}
}

func TestDisabled(t *testing.T) {
	Enable(false)
	defer Enable(true)
	Tokens("team-off", "m", 1, 1)
	rec := httptest.NewRecorder()
	Handler(true).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), "team-off") {
		t.Error("recorded while disabled")
	}
}

// TestRegistriesSplit: no Public series carries a team or model label,
// and every PerTeam series carries a team label, so Handler(false) shows
// nothing of any team.
func TestRegistriesSplit(t *testing.T) {
	RequestStarted()
	RequestDone("/v1/chat/completions", 200, "team-split", "model-split", time.Millisecond)
	ObserveUpstream("openai", time.Millisecond, 500)
	UpstreamStreamFailed("openai")
	Tokens("team-split", "model-split", 1, 1)
	Spend("team-split", 0.5)
	RateLimited("team-split", "rpm")
	BudgetExceeded("team-split")
	Reload(false, "")
	Reload(true, "hash-split")

	pub, err := Public.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range pub {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "team" || l.GetName() == "model" || strings.Contains(l.GetValue(), "split") && l.GetName() != "hash" {
					t.Errorf("public series %s has label %s=%q", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
		if n := f.GetName(); strings.Contains(n, "spend") || strings.Contains(n, "tokens") {
			t.Errorf("public registry holds %s", n)
		}
	}
	per, err := PerTeam.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range per {
		names[f.GetName()] = true
		for _, m := range f.GetMetric() {
			team := false
			for _, l := range m.GetLabel() {
				team = team || l.GetName() == "team"
			}
			if !team {
				t.Errorf("per-team series %s%v has no team label", f.GetName(), m.GetLabel())
			}
		}
	}
	for _, n := range []string{"gateway_requests_total", "gateway_tokens_total", "gateway_spend_usd_total", "gateway_rejections_total"} {
		if !names[n] {
			t.Errorf("%s is not in the per-team registry", n)
		}
	}

	rec := httptest.NewRecorder()
	Handler(false).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, s := range []string{"team-split", "model-split", "gateway_spend_usd_total", "gateway_tokens_total", "gateway_requests_total"} {
		if strings.Contains(body, s) {
			t.Errorf("Handler(false) shows %q", s)
		}
	}
	for _, s := range []string{"gateway_request_duration_seconds", "gateway_upstream_errors_total", "go_goroutines", `gateway_config_info{hash="hash-split"}`} {
		if !strings.Contains(body, s) {
			t.Errorf("Handler(false) lacks %q", s)
		}
	}
}
