// Package anthropic is the provider for `anthropic/<model>` deployments:
// Anthropic's Messages API, at api_base (default https://api.anthropic.com;
// a base ending in /v1 or /v1/messages is accepted), authenticated with an x-api-key
// header, with anthropic-version set to litellm_params.api_version or
// the registry's default (2023-06-01). An anthropic-beta header the
// gateway passes in Call.Header goes upstream as is.
//
// # Contract
//
// New returns a providers.Provider that is also a providers.Forwarder:
//
//   - Complete and OpenStream serve OpenAI chat completions by
//     translation: the OpenAI request becomes a Messages request, the
//     Messages answer a chat.completion, the Messages events
//     chat.completion.chunk payloads. Translation works on bytes
//     (gjson reads, appended output); no request is decoded into maps.
//   - Forward and ForwardStream serve registry.EndpointMessages and
//     EndpointCountTokens natively: the body goes to /v1/messages or
//     /v1/messages/count_tokens as is, the answer comes back as is, and
//     stream events are returned as their data payloads, whose "type" is
//     the event name.
//
// A deployment without an api key uses the ANTHROPIC_API_KEY environment
// variable only when its credentials are the operator's
// (configs.Deployment.OperatorCredentials); a team deployment without a
// key is refused with a 401 saying to set api_key. The key in use is
// scrubbed from every error and error event (providers.Scrub).
//
// # Request translation (OpenAI chat -> Messages)
//
//   - system and developer messages, wherever they are, become the
//     top-level system blocks; tool messages become tool_result blocks of
//     a user turn; consecutive messages of one role are merged into one
//     turn (Anthropic wants user and assistant alternating), a user
//     turn's tool_result blocks placed first; a conversation starting
//     with an assistant message gets a "." user message first (as
//     LiteLLM does); empty text is dropped (Anthropic refuses empty text
//     blocks); trailing white space of a final assistant (prefill)
//     message is cut.
//   - max_completion_tokens, else max_tokens, else the model's output
//     limit (MaxOutputTokens: a small table of Anthropic models, else
//     4096; raised above the thinking budget when needed).
//   - temperature, top_p, top_k as is, except top_p when temperature is
//     set too (Anthropic's recent models refuse both); stop (string or array) to
//     stop_sequences, white-space-only ones dropped; user to
//     metadata.user_id (not when it is an e-mail address, which Anthropic
//     refuses).
//   - image_url parts: data URLs to base64 image sources (a PDF data URL
//     to a document block), http(s) URLs to url sources; file parts with
//     a PDF data URL to document blocks; cache_control on parts and tools is
//     passed through, a message's own cache_control goes on its last block
//     (LiteLLM's rule).
//   - tools: function tools to {name, description, input_schema}; other
//     tools with a name (Anthropic server tools) as is; tool_choice auto,
//     none, required (any) and a named function (tool);
//     parallel_tool_calls false to disable_parallel_tool_use; assistant
//     tool_calls to tool_use blocks (arguments parsed: they must be a JSON
//     object); tool call ids made to fit Anthropic's ^[a-zA-Z0-9_-]+$.
//   - thinking: a thinking object as is; else reasoning_effort low
//     (and minimal) / medium / high to budget_tokens 1024 / 2048 / 4096
//     (LiteLLM's budgets); an assistant message's thinking_blocks are
//     sent back first in its turn.
//   - response_format json_schema / json_object: a tool named
//     json_tool_call with the schema, forced by tool_choice unless
//     thinking is on; its input comes back as the message content
//     (LiteLLM's approach).
//   - n > 1 is refused with a 400 (Anthropic gives one choice); other
//     OpenAI-only fields (frequency_penalty, logprobs, seed, ...) are
//     dropped: Anthropic refuses unknown fields.
//
// # Answer translation
//
// Text blocks join into message.content; tool_use blocks become
// tool_calls (arguments a JSON string); thinking blocks join into
// message.reasoning_content and are kept in message.thinking_blocks
// (LiteLLM's fields). stop_reason end_turn, stop_sequence and pause_turn
// become "stop", max_tokens "length", tool_use "tool_calls", refusal
// "content_filter". The upstream's id and model are kept (the caller
// rewrites model). usage is {"prompt_tokens": input + cache read + cache
// creation, "completion_tokens": output, "total_tokens",
// "prompt_tokens_details": {"cached_tokens": cache read},
// "cache_creation_input_tokens", "cache_read_input_tokens"}.
//
// A stream yields a first chunk with role assistant, text as
// delta.content, each tool_use as delta.tool_calls with its own index
// (0, 1, ... counting tool calls, not content blocks: the first delta
// carries id, type, function.name and empty arguments, then argument
// fragments), thinking as delta.reasoning_content (and thinking_blocks,
// signatures included), a finish chunk with finish_reason, then, only
// when the request had stream_options.include_usage, a usage chunk with
// "choices": []; then io.EOF. Every chunk carries the same id, created
// and model. ping, content_block_stop and message_stop yield nothing. An
// error event ends the stream with a *wire.Error of the status of its
// type (overloaded_error 529, rate_limit_error 429, api_error 500, ...);
// a body that ends before message_delta's stop_reason is a 502.
//
// # Errors
//
// Anthropic's error body {"type": "error", "error": {"type", "message"}}
// is read by the shared providers error path: the status is kept (400,
// 401, 403, 404, 413, 429 with its retry-after, 500, 529). For chat
// clients the type becomes OpenAI's for the status (529 and 500:
// upstream_error; 413: invalid_request_error) and an Anthropic type
// without an OpenAI name leads the message ("overloaded_error:
// Overloaded"). 529 is kept rather than mapped to 500 as LiteLLM does:
// OpenAI's SDKs retry every 5xx, Anthropic's know 529, and it tells an
// overloaded upstream from a failed one. Forward keeps Anthropic's types
// for the native endpoints.
package anthropic
