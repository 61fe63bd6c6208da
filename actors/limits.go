package actors

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/spend"
	"github.com/llmgateway/gateway/wire"
)

// neverResetRetry is the retry-after, in seconds, of a budget that never
// resets (no budget_duration): a day, as a hint that retrying soon is
// pointless.
const neverResetRetry = 86400

// limiter holds the counters of one team or one virtual key. It belongs
// to its team actor and is only touched inside Receive.
type limiter struct {
	who string // "Team=<id>" or "Key=<name>", for messages
	// field prefixes the limit names in messages ("model_" for a key's
	// per-model limits, with model naming the model).
	field, model string
	// calendar is general_settings' budget reset time zone when
	// budget_reset_calendar is true (nil: rolling periods).
	calendar *time.Location
	// softAlerted: the soft budget alert of the current period was sent.
	softAlerted bool

	rpm      window // admissions, one entry each (only with an rpm_limit)
	tpm      window // tokens, merged per second (only with a tpm_limit)
	inFlight int64

	spend       float64
	periodStart time.Time
	resetAt     time.Time // zero: the budget never resets
	duration    string    // the budget_duration resetAt was computed for
}

// roll applies the budget period: a changed budget_duration recomputes the
// reset time from the period start; a reset time passed zeroes the spend.
// It reports whether a new period began.
func (l *limiter) roll(now time.Time, lim *configs.Limits) (newPeriod bool) {
	if lim.BudgetDuration != l.duration {
		l.duration = lim.BudgetDuration
		l.resetAt = nextReset(l.periodStart, l.duration, now, l.calendar)
	}
	if !l.resetAt.IsZero() && !now.Before(l.resetAt) {
		l.spend = 0
		l.softAlerted = false
		l.resetAt = nextReset(l.periodStart, l.duration, now, l.calendar)
		return true
	}
	return false
}

// setCalendar switches the limiter between rolling and calendar periods
// (general_settings.budget_reset_calendar): the current period's end is
// recomputed, its spend kept.
func (l *limiter) setCalendar(loc *time.Location, now time.Time) {
	if l.calendar == loc {
		return
	}
	l.calendar = loc
	if l.duration != "" {
		l.resetAt = nextReset(l.periodStart, l.duration, now, loc)
	}
}

// nextReset is the end of the budget period that holds now: with a
// calendar time zone, LiteLLM's calendar resets for 1d, 1w and 1mo
// (configs.CalendarReset); otherwise the first start + k*duration (k >= 1)
// after now. Zero for no duration (or an invalid one, which validation
// already refused).
func nextReset(start time.Time, duration string, now time.Time, calendar *time.Location) time.Time {
	if duration == "" {
		return time.Time{}
	}
	if at, ok := configs.CalendarReset(duration, now, calendar); ok {
		return at
	}
	months, d, err := configs.ParseBudgetDuration(duration)
	if err != nil {
		return time.Time{}
	}
	if start.After(now) {
		start = now
	}
	if months == 0 {
		k := now.Sub(start)/d + 1
		return start.Add(k * d)
	}
	elapsed := (now.Year()-start.Year())*12 + int(now.Month()) - int(start.Month())
	k := max(1, elapsed/months)
	for {
		t := start.AddDate(0, k*months, 0)
		if t.After(now) {
			return t
		}
		k++
	}
}

// check returns the error that refuses a new call under lim, or nil.
func (l *limiter) check(now time.Time, lim *configs.Limits) *wire.Error {
	if lim.MaxBudget != nil && l.spend >= *lim.MaxBudget {
		budget := "max_budget"
		if l.field != "" {
			budget = "model_max_budget[" + l.model + "]"
		}
		e := wire.Errorf(429, wire.TypeBudget, "Budget has been exceeded for %s: spend %s USD >= %s %s USD; ",
			l.who, usd(l.spend), budget, usd(*lim.MaxBudget))
		if l.resetAt.IsZero() {
			e.Message += "this budget never resets (no budget_duration); ask an admin to raise " + budget
			e.RetryAfter = neverResetRetry
		} else {
			e.Message += "the budget resets at " + l.resetAt.UTC().Format(time.RFC3339) + "; retry then, or ask an admin to raise " + budget
			e.RetryAfter = retrySeconds(l.resetAt.Sub(now))
		}
		e.Limit = "budget"
		return e
	}
	if lim.MaxParallelRequests != nil && l.inFlight >= *lim.MaxParallelRequests {
		e := wire.Errorf(429, wire.TypeRateLimit,
			"Max parallel requests reached for %s: max_parallel_requests %d calls are in flight; retry when one finishes, or ask an admin to raise max_parallel_requests",
			l.who, *lim.MaxParallelRequests)
		e.RetryAfter = 1
		e.Limit = "parallel"
		return e
	}
	ns := now.UnixNano()
	if lim.RPMLimit != nil {
		l.rpm.evict(ns)
		if l.rpm.sum >= *lim.RPMLimit {
			return l.windowError(now, l.rpm.freeAt(ns, *lim.RPMLimit), "rpm_limit", *lim.RPMLimit, "requests")
		}
	}
	if lim.TPMLimit != nil {
		l.tpm.evict(ns)
		if l.tpm.sum >= *lim.TPMLimit {
			return l.windowError(now, l.tpm.freeAt(ns, *lim.TPMLimit), "tpm_limit", *lim.TPMLimit, "tokens")
		}
	}
	return nil
}

func (l *limiter) windowError(now time.Time, free int64, field string, limit int64, what string) *wire.Error {
	at := time.Unix(0, free)
	kind := strings.TrimSuffix(field, "_limit")
	if l.field != "" {
		field = l.field + field + "[" + l.model + "]"
	}
	e := wire.Errorf(429, wire.TypeRateLimit,
		"Rate limit exceeded for %s: %s %d %s per minute reached; it resets at %s; retry then, or ask an admin to raise %s",
		l.who, field, limit, what, at.UTC().Format(time.RFC3339), field)
	e.RetryAfter = retrySeconds(at.Sub(now))
	e.Limit = kind
	return e
}

// admit counts a call the checks let through.
func (l *limiter) admit(now time.Time, lim *configs.Limits) {
	l.inFlight++
	if lim.RPMLimit != nil {
		l.rpm.add(now.UnixNano(), 1, 0)
	}
}

// remaining returns what is left of the rpm and tpm allowances (-1: no
// limit).
func (l *limiter) remaining(lim *configs.Limits) (req, tok int64) {
	req, tok = -1, -1
	if lim.RPMLimit != nil {
		req = max(0, *lim.RPMLimit-l.rpm.sum)
	}
	if lim.TPMLimit != nil {
		tok = max(0, *lim.TPMLimit-l.tpm.sum)
	}
	return req, tok
}

// done accounts for a finished call.
func (l *limiter) done(now time.Time, lim *configs.Limits, tokens int64, cost float64) {
	if l.inFlight > 0 {
		l.inFlight--
	}
	if lim != nil && lim.TPMLimit != nil && tokens > 0 {
		l.tpm.evict(now.UnixNano())
		l.tpm.add(now.UnixNano(), tokens, int64(time.Second))
	}
	l.spend = spend.Add(l.spend, cost)
}

func (l *limiter) delta(teamID, keyToken string, cost float64, newPeriod bool) spend.Delta {
	return spend.Delta{TeamID: teamID, KeyToken: keyToken, Spend: cost, PeriodStart: l.periodStart,
		ResetAt: l.resetAt, NewPeriod: newPeriod}
}

// restore sets the limiter's budget state from a stored record (or, with
// none, starts the first period at created, else now). It reports whether
// the record is new and must be stored.
func (l *limiter) restore(rec *spend.Record, created *time.Time, now time.Time, lim *configs.Limits) (fresh bool) {
	if rec == nil || rec.PeriodStart.IsZero() {
		l.periodStart = now
		if created != nil && !created.After(now) {
			l.periodStart = *created
		}
		fresh = true
	} else {
		l.periodStart = rec.PeriodStart
	}
	if rec != nil {
		l.spend = spend.Add(rec.Spend, 0)
		l.resetAt = rec.ResetAt
	}
	l.duration = lim.BudgetDuration
	switch {
	case l.duration == "":
		l.resetAt = time.Time{}
	case l.resetAt.IsZero():
		l.resetAt = nextReset(l.periodStart, l.duration, now, l.calendar)
	}
	return fresh
}

func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

func usd(v float64) string {
	s := fmt.Sprintf("%.6f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
