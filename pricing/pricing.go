// Package pricing turns a call's token usage into a cost in USD.
//
// The embedded price table (prices.json) is trimmed from LiteLLM's public
// model_prices_and_context_window.json
// (https://github.com/BerriAI/litellm, MIT licence, Copyright (c) 2023
// Berri AI): input and output cost per token for the common OpenAI, Azure
// OpenAI and Anthropic chat models, in LiteLLM's own key and field names,
// so entries can be refreshed from that file by copy and paste.
//
// A deployment's price is, in order: its litellm_params
// input_cost_per_token / output_cost_per_token (either one set overrides
// the table; the other counts 0); the table entry for model_info.base_model;
// the table entry for the upstream model (provider-qualified first, so
// azure/gpt-4o gets Azure's figure, then without the provider prefix). A
// model found nowhere costs 0; Unpriced reports it so that the caller warns
// once, and a request never fails for lack of a price.
package pricing

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers/registry"
)

//go:embed prices.json
var pricesJSON []byte

// Price is a model's cost in USD per token.
type Price struct {
	Input  float64 `json:"input_cost_per_token"`
	Output float64 `json:"output_cost_per_token"`
	// CacheRead and CacheWrite price prompt tokens read from or written
	// to the upstream's prompt cache; nil: the input price.
	CacheRead  *float64 `json:"cache_read_input_token_cost,omitempty"`
	CacheWrite *float64 `json:"cache_creation_input_token_cost,omitempty"`
}

// Tokens is what a call used, as priced. Prompt counts every prompt
// token, those read from or written to the prompt cache included.
type Tokens struct {
	Prompt, Completion    int64
	CacheRead, CacheWrite int64
}

// Cost is the price of a call that used prompt input tokens and
// completion output tokens (none of them cached).
func (p Price) Cost(prompt, completion int64) float64 {
	return p.CostOf(Tokens{Prompt: prompt, Completion: completion})
}

// CostOf prices t: cached prompt tokens at the cache prices, the rest of
// the prompt at the input price. It is always finite and never negative:
// negative counts (an upstream's garbage) count 0, and a price that is not
// finite (validation refuses them) costs 0 rather than poisoning the
// spend.
func (p Price) CostOf(t Tokens) float64 {
	read, write := max(t.CacheRead, 0), max(t.CacheWrite, 0)
	plain := max(t.Prompt, 0) - read - write
	if plain < 0 { // cache counts larger than the prompt: trust the prompt
		plain, read, write = max(t.Prompt, 0), 0, 0
	}
	readPrice, writePrice := p.Input, p.Input
	if p.CacheRead != nil {
		readPrice = *p.CacheRead
	}
	if p.CacheWrite != nil {
		writePrice = *p.CacheWrite
	}
	c := float64(plain)*p.Input + float64(read)*readPrice + float64(write)*writePrice +
		float64(max(t.Completion, 0))*p.Output
	if math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
		return 0
	}
	return c
}

var table = mustParse(pricesJSON)

func mustParse(raw []byte) map[string]Price {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		panic(fmt.Sprintf("pricing: embedded prices.json: %v", err))
	}
	out := make(map[string]Price, len(all))
	for name, v := range all {
		if strings.HasPrefix(name, "_") {
			continue // _source: provenance and licence
		}
		var p Price
		if err := json.Unmarshal(v, &p); err != nil {
			panic(fmt.Sprintf("pricing: embedded prices.json entry %q: %v", name, err))
		}
		out[name] = p
	}
	return out
}

// Lookup finds a model in the table: by its exact name, then without a
// provider prefix ("openai/gpt-4o" -> "gpt-4o").
func Lookup(model string) (Price, bool) {
	if p, ok := table[model]; ok {
		return p, true
	}
	if _, rest, ok := strings.Cut(model, "/"); ok {
		p, ok := table[rest]
		return p, ok
	}
	return Price{}, false
}

// Quote is a deployment's resolved price.
type Quote struct {
	Price
	// Priced is false when no price was found: the cost is 0.
	Priced bool
	// Model is the name the price was looked up by (for the warning).
	Model string
}

// ForDeployment resolves a deployment's price (see the package comment).
// Resolve it once per configuration, not per request.
func ForDeployment(d *configs.Deployment) Quote {
	lp := d.LiteLLMParams
	if lp.InputCostPerToken != nil || lp.OutputCostPerToken != nil {
		q := Quote{Priced: true, Model: d.UpstreamModel}
		if lp.InputCostPerToken != nil {
			q.Input = *lp.InputCostPerToken
		}
		if lp.OutputCostPerToken != nil {
			q.Output = *lp.OutputCostPerToken
		}
		return q
	}
	if s, ok := registry.Lookup(d.Provider); ok && s.Free {
		// The provider calls no one (the built-in mock): free, unless
		// priced above.
		return Quote{Priced: true, Model: d.UpstreamModel}
	}
	var names []string
	if b := d.ModelInfo.BaseModel; b != "" {
		if !strings.Contains(b, "/") && d.Provider != "" {
			names = append(names, d.Provider+"/"+b)
		}
		names = append(names, b)
	}
	if d.UpstreamModel != "" {
		names = append(names, d.Provider+"/"+d.UpstreamModel, d.UpstreamModel)
	}
	for _, n := range names {
		if p, ok := Lookup(n); ok {
			return Quote{Price: p, Priced: true, Model: n}
		}
	}
	model := d.ModelInfo.BaseModel
	if model == "" {
		model = d.LiteLLMParams.Model
	}
	return Quote{Model: model}
}

// UnpricedWarnings lists, as warnings at each deployment's definition,
// the deployments of snap no price is found for (see ForDeployment): their
// calls cost 0, so no budget limits them. `gateway check` prints them.
func UnpricedWarnings(snap *configs.Snapshot) []configs.Problem {
	var out []configs.Problem
	warn := func(d *configs.Deployment) {
		if q := ForDeployment(d); !q.Priced {
			out = append(out, configs.Problem{Pos: d.Source, Warning: true, Message: fmt.Sprintf(
				"deployment %q (%s) has no price: its calls cost 0 and no budget limits them; set litellm_params.input_cost_per_token and output_cost_per_token, or model_info.base_model to a model of the price table",
				d.PublicName(), d.LiteLLMParams.Model)})
		}
	}
	for _, d := range snap.Global {
		warn(d)
	}
	for _, ds := range snap.TeamDeployments {
		for _, d := range ds {
			warn(d)
		}
	}
	return out
}
