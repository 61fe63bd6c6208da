package actors

import (
	"strings"
	"testing"
)

// TestUnaryAnswerChecked: a 2xx that is no chat completion is a 502 whose
// message names the model, not the upstream (the log detail does), and
// an answer without usage is counted with the tokenizer.
func TestUnaryAnswerChecked(t *testing.T) {
	f := &fakeProvider{}
	d := dep("d1", "html-model", "html")
	d.LiteLLMParams.APIBase = "http://10.9.8.7:8000/v1"
	system, dir := startTeam(t, f, d, dep("d2", "quiet-model", "nousage"))
	pid, _ := dir.Team("t1")

	res := ask(t, system, pid, "html-model")
	if res == nil || res.Err == nil || res.Err.Status != 502 ||
		!strings.Contains(res.Err.Message, `the upstream of model "html-model" answered 200 with a body that is not JSON`) {
		t.Fatalf("an HTML 200: %+v", res)
	}
	if strings.Contains(res.Err.Message, "10.9.8.7") || !strings.Contains(res.Err.Internal, "10.9.8.7:8000") ||
		!strings.Contains(res.Err.Internal, "text/html") {
		t.Fatalf("message %q / log detail %q", res.Err.Message, res.Err.Internal)
	}

	res = ask(t, system, pid, "quiet-model")
	if res == nil || res.Err != nil || res.Usage.Reported || res.Usage.PromptTokens <= 0 || res.Usage.CompletionTokens <= 0 {
		t.Fatalf("an answer without usage: %+v", res)
	}
	if !strings.Contains(string(res.Body), `"model":"quiet-model"`) {
		t.Fatalf("the answer's model was not rewritten: %s", res.Body)
	}
}
