package bridge

import "testing"

func TestOptionsFor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		model     string
		max       int
		wantMax   int
		reasoning bool
	}{
		{"gpt-4o", 0, 16384, false},
		{"gpt-4o-mini-2024-07-18", 0, 16384, false},
		{"o3-mini", 0, 100000, true},
		{"gpt-5-mini", 0, 128000, true},
		{"gpt-5-chat-latest", 0, 128000, false},
		{"my-finetune", 0, 0, false},
		{"my-finetune", 2048, 2048, false},
		{"ft:gpt-4o:org", 0, 0, false},
	} {
		o := OptionsFor(c.model, c.max)
		if o.MaxOutputTokens != c.wantMax || o.NoReasoning == c.reasoning {
			t.Errorf("%s: %+v, want max %d, reasoning %v", c.model, o, c.wantMax, c.reasoning)
		}
	}
}
