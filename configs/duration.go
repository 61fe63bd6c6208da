package configs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseBudgetDuration parses a budget_duration: a positive integer followed
// by s, m, h, d or mo (30s 30m 30h 1d 7d 1mo). Months are calendar months,
// returned separately from the fixed-length part.
func ParseBudgetDuration(s string) (months int, d time.Duration, err error) {
	unit := strings.TrimLeft(s, "0123456789")
	digits := s[:len(s)-len(unit)]
	n, convErr := strconv.Atoi(digits)
	if digits == "" || convErr != nil || n <= 0 {
		return 0, 0, fmt.Errorf("budget_duration %q is not a positive number followed by s, m, h, d or mo (e.g. 30s 30m 30h 1d 7d 1mo)", s)
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
	default:
		return 0, 0, fmt.Errorf("budget_duration %q has unit %q; use s, m, h, d or mo (e.g. 30s 30m 30h 1d 7d 1mo)", s, unit)
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
