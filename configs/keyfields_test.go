package configs

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCalendarReset(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone data")
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		dur, now, want string
		loc            *time.Location
	}{
		{"1d", "2026-03-01T12:00:00Z", "2026-03-02T00:00:00Z", time.UTC},
		{"1d", "2026-03-01T23:59:59Z", "2026-03-02T00:00:00Z", time.UTC},
		{"1d", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", time.UTC},
		{"1d", "2026-03-01T12:00:00Z", "2026-03-01T23:00:00Z", paris},
		{"1w", "2026-03-01T12:00:00Z", "2026-03-02T00:00:00Z", time.UTC}, // a Sunday
		{"1w", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", time.UTC}, // a Monday
		{"1w", "2026-03-04T08:00:00Z", "2026-03-09T00:00:00Z", time.UTC},
		{"1mo", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z", time.UTC},
		{"1mo", "2026-12-15T00:00:00Z", "2027-01-01T00:00:00Z", time.UTC},
		{"1mo", "2026-03-15T00:00:00Z", "2026-03-31T22:00:00Z", paris}, // summer time from March 29
	} {
		got, ok := CalendarReset(c.dur, at(c.now), c.loc)
		if !ok || !got.Equal(at(c.want)) {
			t.Errorf("CalendarReset(%s, %s, %s) = %s %v, want %s", c.dur, c.now, c.loc, got.UTC(), ok, c.want)
		}
	}
	for _, d := range []string{"2d", "30d", "12h", "2w", "3mo"} {
		if _, ok := CalendarReset(d, time.Now(), time.UTC); ok {
			t.Errorf("%s has no calendar reset (rolling)", d)
		}
	}
	if _, ok := CalendarReset("1d", time.Now(), nil); ok {
		t.Error("nil location: rolling")
	}
}

func TestParseBudgetDurationWeeks(t *testing.T) {
	t.Parallel()
	if _, d, err := ParseBudgetDuration("2w"); err != nil || d != 14*24*time.Hour {
		t.Errorf("2w = %v %v", d, err)
	}
}

func TestRouteAllowed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		allowed []string
		path    string
		want    bool
	}{
		{nil, "/anything", true},
		{[]string{"/chat/completions"}, "/chat/completions", true},
		{[]string{"/chat/completions"}, "/v1/chat/completions", true},
		{[]string{"/chat/completions"}, "/openai/deployments/gpt/chat/completions", true},
		{[]string{"/v1/chat/completions"}, "/chat/completions", true},
		{[]string{"/chat/completions"}, "/v1/embeddings", false},
		{[]string{"/chat/completions"}, "/chat/completions/x", false},
		{[]string{"/key/*"}, "/key/info", true},
		{[]string{"/key/*"}, "/team/info", false},
		{[]string{"llm_api_routes"}, "/v1/embeddings", true},
		{[]string{"llm_api_routes"}, "/key/generate", false},
		{[]string{"info_routes"}, "/key/info", true},
		{[]string{"info_routes"}, "/key/generate", false},
		{[]string{"management_routes"}, "/key/generate", true},
		{[]string{"management_routes"}, "/v1/chat/completions", false},
		{[]string{"openai_routes"}, "/v1/responses/resp_1", true},
		{[]string{"LiteLLMRoutes.info_routes"}, "/team/info", true},
	} {
		if got := RouteAllowed(c.allowed, c.path); got != c.want {
			t.Errorf("RouteAllowed(%v, %s) = %v", c.allowed, c.path, got)
		}
	}
	for _, bad := range []string{"", "routes", "/a b", "/a*b", "/x?y", strings.Repeat("/a", 200)} {
		if CheckAllowedRoute(bad) == "" {
			t.Errorf("CheckAllowedRoute(%q) accepted", bad)
		}
	}
	for g := range RouteGroups {
		if CheckAllowedRoute(g) != "" {
			t.Errorf("group %s refused", g)
		}
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	if CheckTags([]string{"a", "b"}) != "" || CheckTags(nil) != "" {
		t.Error("valid tags refused")
	}
	for _, bad := range [][]string{{""}, {" "}, {strings.Repeat("x", MaxTagLen+1)}, {"a\nb"}, make([]string, MaxTags+1)} {
		if CheckTags(bad) == "" {
			t.Errorf("CheckTags(%q) accepted", bad)
		}
	}
	team := &Team{Tags: []string{"t1", "shared"}, Metadata: map[string]any{"tags": []any{"tm"}}}
	key := &Key{Tags: []string{"k1", "shared"}, Metadata: map[string]any{"tags": []any{"km", 5}}}
	req := RequestTags([]any{"r1", 7, "", "k1", strings.Repeat("y", 500)})
	if got, want := MergedTags(team, key, req), []string{"t1", "shared", "tm", "k1", "r1"}; !slices.Equal(got, want) {
		t.Errorf("MergedTags = %v, want %v", got, want)
	}
	if got := MergedTags(nil, nil, nil); got != nil {
		t.Errorf("MergedTags(nil) = %v", got)
	}
	if _, why := MetadataTags(map[string]any{"tags": "x"}); why == "" {
		t.Error("metadata.tags as a string accepted")
	}
}

func FuzzRouteAllowed(f *testing.F) {
	for _, s := range []string{"/chat/completions", "/v1/chat/completions", "/openai/deployments/x/y", "/key/*", "llm_api_routes", "", "/", "//", "*"} {
		f.Add(s, "/v1/chat/completions")
	}
	f.Fuzz(func(t *testing.T, allowed, path string) {
		_ = CheckAllowedRoute(allowed)
		n := NormalizeRoute(path)
		if NormalizeRoute(n) != NormalizeRoute(NormalizeRoute(n)) {
			t.Fatalf("NormalizeRoute is not stable on %q", path)
		}
		if CheckAllowedRoute(allowed) == "" && strings.HasPrefix(allowed, "/") && !strings.HasSuffix(allowed, "*") &&
			!RouteAllowed([]string{allowed}, allowed) {
			t.Fatalf("%q does not allow itself", allowed)
		}
		_ = RouteAllowed([]string{allowed}, path)
	})
}

func FuzzTags(f *testing.F) {
	f.Add("prod", "x\x00y")
	f.Fuzz(func(t *testing.T, a, b string) {
		tags := []string{a, b}
		if CheckTags(tags) == "" && !slices.Equal(RequestTags([]any{a, b}), dedupe(tags)) && a != b {
			t.Fatalf("valid tags %q dropped by RequestTags", tags)
		}
		_ = MergedTags(&Team{Tags: tags}, &Key{Tags: tags}, RequestTags([]any{a, b}))
	})
}

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
