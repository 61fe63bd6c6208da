package configs

import (
	"net/url"
	"strings"
	"time"
)

// usageSettings resolves the general_settings of the usage log and the
// budgets: database_url, spend_logs_retention, alerting_webhook_url,
// budget_reset_calendar and budget_reset_timezone.
func (b *builder) usageSettings(g *GeneralSettings, s *Settings) {
	if g.DatabaseURL != "" {
		v := b.settingSecret(g, "database_url", g.DatabaseURL, s.SaltKeys(),
			"the usage log, spend totals and budget periods stay in --state-dir")
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				// Never quote the value: it holds a password.
				b.problems.errorf(b.posOf(g, "database_url", Pos{}), "general_settings.database_url is not a postgres:// URL; write postgres://user:password@host:5432/db (usually os.environ/DATABASE_URL)")
				v = ""
			}
		}
		s.DatabaseURL = v
	}
	s.DisableSpendLogs = g.DisableSpendLogs
	s.SpendLogsRetention = DefaultSpendLogsRetention
	if r := g.SpendLogsRetention; r != "" {
		d, ok := ParseDays(r)
		if !ok || d <= 0 {
			b.problems.errorf(b.posOf(g, "spend_logs_retention", Pos{}), "general_settings.spend_logs_retention %q is not a positive duration; use e.g. 30d, 12h or 2w (default 30d)", r)
		} else {
			s.SpendLogsRetention = d
		}
	}
	if g.AlertingWebhookURL != "" {
		v := b.settingSecret(g, "alerting_webhook_url", g.AlertingWebhookURL, s.SaltKeys(), "soft budget alerts are logged only")
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			b.problems.errorf(b.posOf(g, "alerting_webhook_url", Pos{}), "general_settings.alerting_webhook_url is not an http(s) URL")
			v = ""
		}
		s.AlertingWebhookURL = v
	}
	if g.BudgetResetCalendar {
		s.BudgetReset = time.UTC
		if tz := g.BudgetResetTimezone; tz != "" {
			loc, err := time.LoadLocation(tz)
			if err != nil {
				b.problems.errorf(b.posOf(g, "budget_reset_timezone", Pos{}), "general_settings.budget_reset_timezone %q is not a time zone; use an IANA name such as Europe/Paris or UTC", tz)
			} else {
				s.BudgetReset = loc
			}
		}
	} else if g.BudgetResetTimezone != "" {
		b.problems.warnf(b.posOf(g, "budget_reset_timezone", Pos{}), "general_settings.budget_reset_timezone has no effect without budget_reset_calendar: true (budgets reset on rolling periods)")
	}
}

// ParseDays parses a duration that may use days and weeks (30d, 2w, 1d12h)
// besides Go's units.
func ParseDays(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9') {
			i++
		}
		if i == 0 || i == len(s) {
			d, err := time.ParseDuration(s)
			return total + d, err == nil
		}
		unit := s[i]
		if unit != 'd' && unit != 'w' {
			d, err := time.ParseDuration(s)
			return total + d, err == nil
		}
		n := 0
		for _, c := range s[:i] {
			n = n*10 + int(c-'0')
			if n > 100000 {
				return 0, false
			}
		}
		day := 24 * time.Hour
		if unit == 'w' {
			day *= 7
		}
		total += time.Duration(n) * day
		s = s[i+1:]
	}
	return total, true
}
