package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The Anthropic rows: the bench team's second deployment, bench-claude,
// is model anthropic/claude-fake on the fake upstream's Anthropic API
// (POST /v1/messages). A chat call to it is translated (OpenAI chat in,
// Anthropic out and back); a /v1/messages call to it is passed through.
// A build without the anthropic provider cannot load that deployment, so
// the baseline (and the new build, when it fails to start with it or to
// answer through it) runs on a configuration without it, and the
// Anthropic rows are skipped with a message saying why.

const (
	claudeName = "bench-claude" // the team's name for the deployment
	claudeUp   = "claude-fake"  // the upstream model
	// upstreamKeyEnv holds the deployment's upstream key (os.environ/ in
	// its file, so the configuration has no plaintext secret); the fake
	// upstream only checks that x-api-key is present.
	upstreamKeyEnv   = "BENCH_ANTHROPIC_KEY"
	upstreamKey      = "sk-ant-bench-fake-key"
	anthropicVersion = "2023-06-01"
)

// claudeDeployment is the models.d entry of bench-claude. api_base is the
// upstream's root: the provider appends /v1/messages.
func claudeDeployment(upstream string) string {
	return `  - model_name: model_name_bench_1
    litellm_params:
      model: anthropic/` + claudeUp + `
      api_base: ` + upstream + `
      api_key: os.environ/` + upstreamKeyEnv + `
    model_info:
      id: bench-1
      team_id: bench
      team_public_model_name: ` + claudeName + `
`
}

// messagesBody is an Anthropic Messages request the size of loadgen's
// default chat body.
func messagesBody(model string) string {
	return `{"model":"` + model + `","max_tokens":32,"system":"You are a helpful assistant.","messages":[{"role":"user","content":"Say hello in one short sentence."}]}`
}

// Loadgen arguments of the three Anthropic targets (an empty -key: no
// Authorization header).
func directMessagesArgs() []string {
	return []string{"-key", "", "-H", "x-api-key: " + upstreamKey, "-H", "anthropic-version: " + anthropicVersion, "-body", messagesBody(claudeUp)}
}

func translatedArgs() []string { return []string{"-key", teamKey, "-model", claudeName} }

func nativeMessagesArgs() []string {
	return []string{"-key", "", "-H", "x-api-key: " + teamKey, "-H", "anthropic-version: " + anthropicVersion, "-body", messagesBody(claudeName)}
}

// probeAnthropic sends one call of each Anthropic target, unary and
// stream, and says what failed ("" when all answer 200 as they should):
// translated for the direct and translated calls, native for the
// gateway's /v1/messages (its rows are skipped alone).
func probeAnthropic(direct, gw string) (translated, native string) {
	chat := func(stream bool) string {
		s := ""
		if stream {
			s = `,"stream":true,"stream_options":{"include_usage":true}`
		}
		return `{"model":"` + claudeName + `","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32` + s + `}`
	}
	withStream := func(body string) string { return strings.TrimSuffix(body, "}") + `,"stream":true}` }
	upH := map[string]string{"x-api-key": upstreamKey, "anthropic-version": anthropicVersion}
	gwH := map[string]string{"Authorization": "Bearer " + teamKey}
	nativeH := map[string]string{"x-api-key": teamKey, "anthropic-version": anthropicVersion}
	type check struct {
		what, url, body string
		h               map[string]string
		stream          bool
	}
	checks := []check{
		{"the fake upstream's /v1/messages", direct, messagesBody(claudeUp), upH, false},
		{"the fake upstream's /v1/messages stream", direct, withStream(messagesBody(claudeUp)), upH, true},
		{"a translated chat call (model " + claudeName + ")", gw + "/v1/chat/completions", chat(false), gwH, false},
		{"a translated chat stream (model " + claudeName + ")", gw + "/v1/chat/completions", chat(true), gwH, true},
	}
	nativeCheck := check{"the gateway's /v1/messages (model " + claudeName + ")", gw + "/v1/messages", messagesBody(claudeName), nativeH, false}
	client := &http.Client{Timeout: 10 * time.Second}
	try := func(c check) string {
		req, _ := http.NewRequest("POST", c.url, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range c.h {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			return c.what + ": " + err.Error()
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Sprintf("%s answered %d: %.300s", c.what, resp.StatusCode, bytes.TrimSpace(b))
		}
		if c.stream && !bytes.Contains(b, []byte("data:")) {
			return fmt.Sprintf("%s sent no event: %.300s", c.what, b)
		}
		return ""
	}
	for _, c := range checks {
		if why := try(c); why != "" {
			return why, why
		}
	}
	return "", try(nativeCheck)
}

// firstError is the first ERROR line of a gateway's log (its msg), for a
// message saying why it did not start (the temporary directory is
// removed at the end).
func firstError(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if !strings.Contains(line, "level=ERROR") {
			continue
		}
		if _, msg, ok := strings.Cut(line, " msg="); ok {
			if s, err := strconv.Unquote(msg); err == nil {
				return s
			}
			return msg
		}
		return line
	}
	return ""
}

// gwLog is the log file of the gateway started under name.
func (b *bench) gwLog(name string) string { return filepath.Join(b.tmp, name+".log") }

// times is a/b as "1.23x" ("n/a" without both).
func times(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// of is a/b as a percentage ("n/a" without both).
func of(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "n/a"
	}
	return pctS(a / b)
}
