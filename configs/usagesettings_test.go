package configs

import (
	"strings"
	"testing"
	"time"
)

func TestParseDays(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "12h": 12 * time.Hour,
		"1d12h": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, ok := ParseDays(in); !ok || got != want {
			t.Errorf("%s: %v %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "d", "3x", "-1d", "1d-", "999999999d"} {
		if got, ok := ParseDays(bad); ok && got > 0 {
			t.Errorf("%q parsed as %v", bad, got)
		}
	}
}

func TestUsageSettings(t *testing.T) {
	t.Parallel()
	cfg := func(gs string) Input {
		return Input{Config: File{Path: "gateway.yaml", Data: []byte("general_settings:\n" + gs)}}
	}
	snap, ps := Build(cfg("  database_url: os.environ/DATABASE_URL\n  spend_logs_retention: 7d\n  budget_reset_calendar: true\n  budget_reset_timezone: Europe/Paris\n"),
		envOf(map[string]string{"DATABASE_URL": "postgres://u:secret-pw@db:5432/gw"}))
	if snap == nil {
		t.Fatal(ps)
	}
	s := snap.Settings
	if s.DatabaseURL != "postgres://u:secret-pw@db:5432/gw" || s.SpendLogsRetention != 7*24*time.Hour || s.BudgetReset == nil || s.BudgetReset.String() != "Europe/Paris" {
		t.Errorf("settings: %+v", s)
	}
	_, ps = Build(cfg("  database_url: os.environ/DATABASE_URL\n  spend_logs_retention: forever\n  budget_reset_calendar: true\n  budget_reset_timezone: Mars/Olympus\n"),
		envOf(map[string]string{"DATABASE_URL": "mysql://u:secret-pw@db/gw"}))
	var msgs []string
	for _, p := range ps {
		msgs = append(msgs, p.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"database_url is not a postgres:// URL", "spend_logs_retention \"forever\"", "\"Mars/Olympus\" is not a time zone"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in:\n%s", want, all)
		}
	}
	if strings.Contains(all, "secret-pw") {
		t.Errorf("a problem quotes the database password:\n%s", all)
	}
}
