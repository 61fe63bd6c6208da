package registry

import (
	"os"
	"strings"
	"testing"
)

func TestParseModel(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ model, custom, provider, upstream string }{
		{"azure/my-dep", "", "azure", "my-dep"},
		{"gpt-4o", "", "openai", "gpt-4o"},
		{"openai/org/model", "", "openai", "org/model"},
		{"x", "azure", "azure", "x"},
		{"azure/x", "azure", "azure", "x"},
		{"mock/", "", "mock", ""},
	} {
		p, u := ParseModel(c.model, c.custom)
		if p != c.provider || u != c.upstream {
			t.Errorf("ParseModel(%q, %q) = %q, %q; want %q, %q", c.model, c.custom, p, u, c.provider, c.upstream)
		}
	}
}

func TestStreamUsage(t *testing.T) {
	t.Parallel()
	off := false
	for _, c := range []struct {
		provider, version string
		include           *bool
		want              bool
	}{
		{"openai", "", nil, true},
		{"openai", "", &off, false},
		{"mock", "", nil, true},
		{"azure", "", nil, true},
		{"azure", "2024-10-21", nil, true},
		{"azure", "2024-12-01-preview", nil, true},
		{"azure", "2024-06-01", nil, false},
		{"azure", "v1", nil, true},
		{"azure", "preview", nil, true},
		{"nope", "", nil, false},
	} {
		if got := StreamUsage(c.provider, c.version, c.include); got != c.want {
			t.Errorf("StreamUsage(%q, %q, %v) = %v, want %v", c.provider, c.version, c.include, got, c.want)
		}
	}
}

func TestTableIsWellFormed(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range Table {
		if s.Name == "" || seen[s.Name] {
			t.Errorf("provider name %q empty or repeated", s.Name)
		}
		seen[s.Name] = true
		if s.Auth == "" || len(s.Endpoints) == 0 {
			t.Errorf("provider %q declares no auth or no endpoint", s.Name)
		}
	}
	if _, ok := Lookup(DefaultProvider); !ok {
		t.Errorf("the default provider %q is not in the table", DefaultProvider)
	}
}

// TestREADMEListsEveryProvider: the README's provider table has one row
// per registry entry, with its auth header.
func TestREADMEListsEveryProvider(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	header := map[Auth]string{AuthBearer: "`Authorization: Bearer`", AuthAPIKey: "`api-key`", AuthXAPIKey: "`x-api-key`", AuthNone: "none",
		AuthGoogAPIKey: "`x-goog-api-key`", AuthSigV4: "AWS SigV4", AuthGoogleOAuth: "Google OAuth2 `Authorization: Bearer`"}
	rows := 0
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| `") && strings.Contains(line, "/` |") {
			rows++
		}
	}
	for _, s := range Table {
		prefix := "| `" + s.Name + "/` |"
		var row string
		for _, line := range strings.Split(string(readme), "\n") {
			if strings.HasPrefix(line, prefix) {
				row = line
			}
		}
		if row == "" {
			t.Errorf("README's provider table has no row %q", prefix)
			continue
		}
		if cells := strings.Split(row, "|"); len(cells) < 5 || strings.TrimSpace(cells[3]) != header[s.Auth] {
			t.Errorf("README row %q: auth header should be %s", row, header[s.Auth])
		}
		if s.DefaultAPIBase != "" && !strings.Contains(row, s.DefaultAPIBase) {
			t.Errorf("README row %q does not show the default api_base %s", row, s.DefaultAPIBase)
		}
	}
	if rows != len(Table) {
		t.Errorf("README's provider table has %d rows, the registry %d providers", rows, len(Table))
	}
}

// Which models the bridges send reasoning_effort to.
func TestReasoning(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		provider, model string
		want            bool
	}{
		{"anthropic", "claude-sonnet-4-5", true}, {"anthropic", "claude-3-7-sonnet-latest", true},
		{"anthropic", "claude-3-5-haiku-20241022", false}, {"anthropic", "claude-3-haiku-20240307", false},
		{"bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0", true}, {"bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", false},
		{"bedrock", "meta.llama3-1-70b-instruct-v1:0", false}, {"bedrock", "openai.gpt-oss-120b-1:0", true},
		{"vertex_ai", "claude-opus-4@20250514", true}, {"vertex_ai", "claude-3-5-sonnet-v2@20241022", false}, {"vertex_ai", "gemini-2.5-pro", true},
		{"gemini", "gemini-2.0-flash", true},
	} {
		s, _ := Lookup(tc.provider)
		if s.Reasoning == nil || s.Reasoning(tc.model) != tc.want {
			t.Errorf("%s/%s: reasoning %v", tc.provider, tc.model, !tc.want)
		}
	}
}
