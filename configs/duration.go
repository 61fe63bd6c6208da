package configs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseBudgetDuration parses a budget_duration: a positive integer followed
// by s, m, h, d, w or mo (30s 30m 30h 1d 7d 1w 1mo). Months are calendar
// months, returned separately from the fixed-length part.
func ParseBudgetDuration(s string) (months int, d time.Duration, err error) {
	unit := strings.TrimLeft(s, "0123456789")
	digits := s[:len(s)-len(unit)]
	n, convErr := strconv.Atoi(digits)
	if digits == "" || convErr != nil || n <= 0 {
		return 0, 0, fmt.Errorf("budget_duration %q is not a positive number followed by s, m, h, d, w or mo (e.g. 30s 30m 30h 1d 1w 1mo)", s)
	}
	var per time.Duration
	switch unit {
	case "mo":
		return n, 0, nil
	case "s":
		per = time.Second
	case "m":
		per = time.Minute
	case "h":
		per = time.Hour
	case "d":
		per = 24 * time.Hour
	case "w":
		per = 7 * 24 * time.Hour
	default:
		return 0, 0, fmt.Errorf("budget_duration %q has unit %q; use s, m, h, d, w or mo (e.g. 30s 30m 30h 1d 1w 1mo)", s, unit)
	}
	if int64(n) > int64(1<<62)/int64(per) {
		return 0, 0, fmt.Errorf("budget_duration %q is too long", s)
	}
	return 0, time.Duration(n) * per, nil
}

// AddBudgetDuration returns t plus one budget period s ("30d", "1mo", ...).
// "mo" adds calendar months (time.AddDate), the other units a fixed length.
func AddBudgetDuration(t time.Time, s string) (time.Time, error) {
	months, d, err := ParseBudgetDuration(s)
	if err != nil {
		return time.Time{}, err
	}
	if months > 0 {
		return t.AddDate(0, months, 0), nil
	}
	return t.Add(d), nil
}

// CalendarReset returns the calendar-aligned end of the budget period
// that contains now, in loc (LiteLLM's calendar resets, used when
// general_settings.budget_reset_calendar is true): "1d" is the next
// midnight, "1w" the next Monday 00:00, "1mo" the 1st of the next month
// 00:00. ok is false for any other duration (Nd with N > 1, hours, ...):
// those keep rolling periods.
func CalendarReset(duration string, now time.Time, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		return time.Time{}, false
	}
	t := now.In(loc)
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	switch duration {
	case "1d":
		return midnight.AddDate(0, 0, 1), true
	case "1w":
		days := (8 - int(t.Weekday())) % 7 // to the next Monday
		if days == 0 {
			days = 7
		}
		return midnight.AddDate(0, 0, days), true
	case "1mo":
		return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc), true
	}
	return time.Time{}, false
}
