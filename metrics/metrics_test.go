package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestExposition(t *testing.T) {
	RequestStarted()
	RequestDone("/v1/chat/completions", 200, "team-a", "", time.Millisecond)
	ObserveUpstream("openai", 2*time.Millisecond, 504)
	Tokens("team-a", "m", 12, 7)
	RateLimited("team-a", "rpm")
	BudgetExceeded("team-a")
	Reload(true, "abc123")
	SetTeamActors(func() int { return 3 })

	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`gateway_requests_total{model="unknown",route="/v1/chat/completions",status="200",team="team-a"} 1`,
		`gateway_upstream_errors_total{kind="timeout",provider="openai"} 1`,
		`gateway_tokens_total{direction="in",model="m",team="team-a"} 12`,
		`gateway_rejections_total{reason="budget",team="team-a"} 1`,
		`gateway_config_info{hash="abc123"} 1`,
		`gateway_config_reloads_total{result="success"} 1`,
		`gateway_team_actors 3`,
		`gateway_requests_in_flight 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
}

func TestDisabled(t *testing.T) {
	Enable(false)
	defer Enable(true)
	Tokens("team-off", "m", 1, 1)
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), "team-off") {
		t.Error("recorded while disabled")
	}
}
