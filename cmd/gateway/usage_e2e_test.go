package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/pgtest"
)

const (
	usTeamA = "us-team-a"
	usTeamB = "us-team-b"
	usKeyA  = "sk-usage-team-a-0123456789abcdef"
	usKeyB  = "sk-usage-team-b-0123456789abcdef"
)

// usageGateway starts a gateway with two teams on the mock provider;
// dbURL, when set, puts the usage log and spend in PostgreSQL.
func usageGateway(t *testing.T, dbURL string) *gatewayProc {
	t.Helper()
	args, dir := emptyGateway(t)
	gs := "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n"
	if dbURL != "" {
		t.Setenv("E2E_DATABASE_URL", dbURL)
		gs += "  database_url: os.environ/E2E_DATABASE_URL\n"
	}
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": gs + "model_list:\n  - model_name: us-model\n    litellm_params: {model: mock/us-model, input_cost_per_token: 0.001, output_cost_per_token: 0.002}\n" +
			"  - model_name: us-embed\n    litellm_params: {model: mock/us-embed, input_cost_per_token: 0.001}\n",
		"teams.d/a.yaml": "team_id: " + usTeamA + "\ntags: [team-tag]\nkeys:\n  - token: " + configs.HashKey(usKeyA) +
			"\n    key_alias: a-key\n    user_id: alice\n    tags: [key-tag]\n",
		"teams.d/b.yaml": "team_id: " + usTeamB + "\nkeys:\n  - token: " + configs.HashKey(usKeyB) + "\n    key_alias: b-key\n",
	})
	return startGateway(t, args...)
}

// TestUsageLogSQLite: the usage log and its reports on the embedded store.
func TestUsageLogSQLite(t *testing.T) { testUsageLog(t, "") }

// TestUsageLogPostgres: the same on PostgreSQL (GATEWAY_TEST_DATABASE_URL;
// skipped without it, failing when CI=true).
func TestUsageLogPostgres(t *testing.T) {
	u, _ := pgtest.Schema(t)
	testUsageLog(t, u)
}

func testUsageLog(t *testing.T, dbURL string) {
	g := usageGateway(t, dbURL)
	chat := func(key, body string) int {
		code, _, _ := g.do(t, "POST", "/v1/chat/completions", key, body)
		return code
	}
	for i := 0; i < 3; i++ {
		if c := chat(usKeyA, `{"model":"us-model","user":"end-user-1","metadata":{"tags":["req-tag"],"run":"e2e"},"messages":[{"role":"user","content":"hello there"}]}`); c != 200 {
			t.Fatalf("chat: %d", c)
		}
	}
	if c := chat(usKeyA, `{"model":"us-model","stream":true,"messages":[{"role":"user","content":"stream please"}]}`); c != 200 {
		t.Fatalf("stream: %d", c)
	}
	if c := chat(usKeyA, `{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}`); c != 400 {
		t.Fatalf("unknown model: %d", c)
	}
	if code, _, raw := g.do(t, "POST", "/v1/embeddings", usKeyA, map[string]any{"model": "us-embed", "input": "some text"}); code != 200 {
		t.Fatalf("embeddings: %d %s", code, raw)
	}
	if c := chat(usKeyB, `{"model":"us-model","messages":[{"role":"user","content":"team b"}]}`); c != 200 {
		t.Fatalf("team b: %d", c)
	}

	// The records are written off the request path: wait for them.
	var rows []any
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, _, raw := g.do(t, "GET", "/spend/logs?team_id="+usTeamA, masterKey, nil)
		if list := listOf(raw); len(list) == 6 {
			rows = list
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(rows) != 6 {
		t.Fatalf("team a has %d rows in /spend/logs, want 6", len(rows))
	}
	var ok, stream, failed, embed int
	for _, r := range rows {
		row := r.(map[string]any)
		if row["team_id"] != usTeamA || row["key_alias"] != "a-key" || row["api_key"] != configs.HashKey(usKeyA) {
			t.Errorf("row %v", row)
		}
		switch {
		case row["status"] == "failure":
			failed++
			if row["http_status"] != 400.0 || row["spend"] != 0.0 {
				t.Errorf("failed row %v", row)
			}
		case row["call_type"] == "/v1/embeddings":
			embed++
		case row["stream"] == true:
			stream++
			if row["spend"].(float64) <= 0 || row["completion_tokens"].(float64) <= 0 {
				t.Errorf("stream row %v", row)
			}
		default:
			ok++
			tags := strings.Join(anyStrings(row["request_tags"]), ",")
			if row["user"] != "end-user-1" || tags != "team-tag,key-tag,req-tag" || row["spend"].(float64) <= 0 ||
				row["model_group"] != "us-model" || row["custom_llm_provider"] != "mock" {
				t.Errorf("row %v (tags %s)", row, tags)
			}
		}
		for _, secret := range []string{usKeyA, "hello there"} {
			if strings.Contains(strings.ToLower(strings.Join(anyStrings(row["request_tags"]), "")+row["request_id"].(string)), secret) {
				t.Errorf("row holds %q", secret)
			}
		}
	}
	if ok != 3 || stream != 1 || failed != 1 || embed != 1 {
		t.Errorf("rows: %d ok, %d stream, %d failed, %d embeddings", ok, stream, failed, embed)
	}

	// A team key sees its own team only; another team's id is missing.
	if _, _, raw := g.do(t, "GET", "/spend/logs", usKeyB, nil); len(listOf(raw)) != 1 {
		t.Errorf("team b sees %s", raw)
	}
	if code, _, _ := g.do(t, "GET", "/spend/logs?team_id="+usTeamA, usKeyB, nil); code != 404 {
		t.Errorf("team b reading team a's logs: %d", code)
	}
	// Filters and paging.
	if _, _, raw := g.do(t, "GET", "/spend/logs?team_id="+usTeamA+"&status=failure", masterKey, nil); len(listOf(raw)) != 1 {
		t.Errorf("status=failure: %s", raw)
	}
	code, hdr, raw := g.doH(t, "GET", "/spend/logs?team_id="+usTeamA+"&limit=4", masterKey, nil)
	if code != 200 || len(listOf(raw)) != 4 || hdr.Get("x-next-cursor") == "" {
		t.Fatalf("limit=4: %d %s", code, raw)
	}
	code, _, raw = g.doH(t, "GET", "/spend/logs?team_id="+usTeamA+"&limit=4&cursor="+hdr.Get("x-next-cursor"), masterKey, nil)
	if code != 200 || len(listOf(raw)) != 2 {
		t.Fatalf("second page: %d %s", code, raw)
	}

	// Daily activity, the global report and spend.
	act := g.ok(t, "GET", "/team/daily/activity?team_ids="+usTeamA, masterKey, nil)
	meta := act["metadata"].(map[string]any)
	if meta["api_requests"] != 6.0 || meta["failed_requests"] != 1.0 || meta["spend"].(float64) <= 0 {
		t.Errorf("team activity %v", meta)
	}
	// A user's activity (the key's user_id): the master sees it, a team key
	// through its own team only.
	ua := g.ok(t, "GET", "/user/daily/activity?user_id=alice", masterKey, nil)["metadata"].(map[string]any)
	if ua["api_requests"] != 6.0 {
		t.Errorf("alice's activity %v", ua)
	}
	if ub := g.ok(t, "GET", "/user/daily/activity?user_id=alice", usKeyB, nil)["metadata"].(map[string]any); ub["api_requests"] != 0.0 {
		t.Errorf("team b sees alice's calls: %v", ub)
	}
	// The key's spend in /key/info is what its calls cost.
	info := g.ok(t, "GET", "/key/info?key="+usKeyA, masterKey, nil)["info"].(map[string]any)
	if info["spend"].(float64) <= 0 || math.Abs(info["spend"].(float64)-meta["spend"].(float64)) > 1e-9 {
		t.Errorf("/key/info spend %v, the log's %v", info["spend"], meta["spend"])
	}
	code, _, raw = g.do(t, "GET", "/global/spend/report?group_by=tag", masterKey, nil)
	if code != 200 || !strings.Contains(string(raw), `"req-tag"`) || !strings.Contains(string(raw), `"team-tag"`) {
		t.Errorf("tag report: %d %s", code, raw)
	}
	if code, _, _ := g.do(t, "GET", "/global/spend/report", usKeyA, nil); code != 403 {
		t.Errorf("team key reading the global report: %d", code)
	}
	if code, _, raw := g.do(t, "GET", "/spend/logs?start_date=yesterday", masterKey, nil); code != 400 || !strings.Contains(string(raw), "start_date") {
		t.Errorf("bad date: %d %s", code, raw)
	}
	if code, _, raw := g.do(t, "GET", "/spend/logs?cursor=forged", masterKey, nil); code != 400 {
		t.Errorf("forged cursor: %d %s", code, raw)
	}
}

// listOf decodes a JSON list.
func listOf(raw []byte) []any {
	var out []any
	_ = json.Unmarshal(raw, &out)
	return out
}

// anyStrings converts a JSON list of strings.
func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
