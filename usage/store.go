package usage

import (
	"context"
	"time"
)

// Store keeps Records and their rollups and answers the reports.
type Store interface {
	// Write stores a batch of records and updates their hourly and daily
	// rollups, in one transaction. A record twice in the batch (same
	// RequestID and Start) counts once, and a batch written again (the
	// Writer's retry after an error that may have followed a commit) is
	// not counted twice.
	Write(ctx context.Context, batch []Record) error
	// Logs pages through records, newest first (LiteLLM's /spend/logs).
	Logs(ctx context.Context, q LogQuery) (LogPage, error)
	// Activity is the daily activity of a team or a user (LiteLLM's
	// /team/daily/activity and /user/daily/activity), from the daily
	// rollups.
	Activity(ctx context.Context, q ActivityQuery) (Activity, error)
	// Report is spend grouped by team, key, model, user or tag per day
	// (LiteLLM's /global/spend/report), from the daily rollups.
	Report(ctx context.Context, q ReportQuery) ([]ReportDay, error)
	// Totals sums the daily rollups of one team or key since a time (the
	// spend shown by /key/info and /team/info).
	Totals(ctx context.Context, q TotalsQuery) (Metrics, error)
	// Prune deletes records that ended before `before`, and rollups whose
	// bucket ended before it; it returns the rows deleted.
	Prune(ctx context.Context, before time.Time) (int64, error)
	Close() error
}

// LogQuery filters /spend/logs. Empty fields do not filter. Cursor is
// the Next of the previous page ("" for the first).
type LogQuery struct {
	TeamID    string // a team caller is always limited to its own team
	KeyID     string // api_key: the key's spend id (the handler hashes a raw key)
	UserID    string
	RequestID string
	Model     string
	Status    string // "success" or "failure"
	From, To  time.Time
	Limit     int // default 100, at most 1000
	Cursor    string
}

// LogPage is one page of records, newest first.
type LogPage struct {
	Records []Record
	Next    string // "" on the last page
}

// Dimension is what a rollup or a report groups by.
type Dimension string

// The dimensions of the rollups.
const (
	ByTeam  Dimension = "team"
	ByKey   Dimension = "key"
	ByModel Dimension = "model"
	ByUser  Dimension = "user"
	ByTag   Dimension = "tag"
)

// Metrics are the sums (and latency percentiles) of a set of calls.
type Metrics struct {
	Spend            float64 `json:"spend"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	TotalTokens      int64   `json:"total_tokens"`
	CachedTokens     int64   `json:"cache_read_input_tokens"`
	Requests         int64   `json:"api_requests"`
	Successful       int64   `json:"successful_requests"`
	Failed           int64   `json:"failed_requests"`
	LatencyP50Ms     float64 `json:"latency_p50_ms"`
	LatencyP95Ms     float64 `json:"latency_p95_ms"`
}

// ActivityQuery selects a team's or a user's daily activity.
type ActivityQuery struct {
	TeamID   string // one of TeamID and UserID
	UserID   string
	From, To time.Time // days, inclusive, UTC
	Model    string    // optional filter
}

// Activity is LiteLLM's daily activity answer: one entry per day with
// its metrics and breakdowns by model and key.
type Activity struct {
	Results  []ActivityDay `json:"results"`
	Metadata Metrics       `json:"metadata"` // the totals over the range
}

// ActivityDay is one day of Activity.
type ActivityDay struct {
	Date      string                        `json:"date"` // YYYY-MM-DD
	Metrics   Metrics                       `json:"metrics"`
	Breakdown map[string]map[string]Metrics `json:"breakdown"` // "models", "api_keys" -> name -> metrics
}

// ReportQuery is /global/spend/report.
type ReportQuery struct {
	GroupBy  Dimension
	From, To time.Time
	TeamID   string // optional: one team's
}

// ReportDay is one day of a report: spend per group.
type ReportDay struct {
	Day    string        `json:"group_by_day"`
	Groups []ReportGroup `json:"groups"`
}

// ReportGroup is one group's figures on one day.
type ReportGroup struct {
	Name    string  `json:"name"`
	Metrics Metrics `json:"metrics"`
}

// TotalsQuery sums one team's or one key's calls since Since.
type TotalsQuery struct {
	TeamID string
	KeyID  string
	Since  time.Time
}
