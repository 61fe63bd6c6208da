// Package bridge serves Anthropic's Messages API (POST /v1/messages, what
// Claude Code and the anthropic SDKs send) over any provider that speaks
// OpenAI chat (openai, azure, mock): the reverse of the anthropic
// provider's translation. The gateway uses it when the resolved
// deployment's provider does not serve registry.EndpointMessages:
//
//	chat, stream, werr := bridge.RequestToChat(body) // then set "model" to the upstream's
//	resp, err := provider.Complete(call)              // or OpenStream
//	msg, werr := bridge.ResponseFromChat(resp.Body, clientModel)
//	events := bridge.StreamFromChat(chatStream, clientModel)
//
// RequestToChatWith takes Options for the deployment: a cap on max_tokens
// (its output limit) and dropping reasoning_effort for a model that is not
// a reasoning model. Errors are *wire.Error; the gateway renders them with
// AnthropicJSON (and AnthropicErrorEvent in a stream). Each stream event's
// data starts with its "type" member, so the SSE event name is cheap to
// read; Anthropic's streams end with message_stop (no [DONE]).
//
// Not translated: tool names longer than the chat API's 64 characters
// (the upstream refuses them with its own 400), which stop sequence
// matched (stop_sequence is always null), thinking signatures (thinking
// blocks come back with an empty signature, so a conversation that
// started on a chat deployment cannot continue with thinking on an
// Anthropic one).
//
// # Requests (RequestToChat)
//
// Validated as Anthropic validates them, with its wording (field path
// first): model a non-empty string, max_tokens a positive integer (it is
// required), messages a non-empty list of user and assistant messages
// whose content is a string or a list of blocks; thinking.budget_tokens at
// least 1024 and below max_tokens. "model" is kept as given.
//
//   - system (a string, or text blocks joined by a blank line) -> the first
//     message, role system. cache_control is dropped everywhere, and so are
//     citations. A message of role system among the turns (Claude Code
//     sends them) stays a system message in its place.
//   - user blocks: text -> text parts; image -> image_url (base64 as a
//     data URL, url as is); document -> text parts (text and content
//     sources) or a file part (base64 PDF); search_result -> text parts.
//     A single text block becomes a plain string content.
//   - tool_result blocks -> role tool messages, before the rest of their
//     user turn (the chat API wants them right after the tool calls):
//     content a string, or text blocks joined by newlines; is_error
//     prefixes "Error: ". Images in a tool result follow in the user
//     message after the tool messages.
//   - assistant blocks: text -> content (joined); tool_use -> tool_calls
//     (arguments: the input as a JSON string); thinking and
//     redacted_thinking are dropped (chat APIs take no reasoning back).
//   - refused with a 400 that says why (the chat API cannot carry them):
//     Anthropic's own tools (any tool with a type other than custom: web
//     search, code execution, bash, text editor, computer use, ...),
//     server_tool_use and other server blocks, documents from a URL or the
//     Files API, images from the Files API, mcp_servers, container.
//   - max_tokens -> max_tokens (max_completion_tokens when thinking is on:
//     OpenAI's reasoning models take only that); temperature, top_p as
//     is; top_k dropped; stop_sequences -> stop; metadata.user_id -> user.
//   - tools (name, description, input_schema, strict) -> function tools;
//     tool_choice auto, any -> "required", tool -> the named function,
//     none; disable_parallel_tool_use -> parallel_tool_calls false.
//     tool_choice without tools is dropped (the chat API refuses it).
//   - thinking enabled -> reasoning_effort by LiteLLM's thresholds
//     (budget_tokens >= 4096 high, >= 2048 medium, else low; LiteLLM's
//     xhigh and max buckets are capped at high, which every OpenAI
//     reasoning model takes); disabled and adaptive -> nothing.
//   - output_format / output_config.format (json_schema) ->
//     response_format json_schema (name "output", strict).
//   - stream -> stream and stream_options.include_usage true (the
//     gateway drops include_usage for a deployment that cannot take it).
//
// # Responses (ResponseFromChat)
//
// id "msg_" + the chat id without "chatcmpl-"; content: a thinking block
// first when the message has reasoning_content (or reasoning; its
// signature is empty), the text (or the refusal), then tool_use blocks
// with the parsed arguments. Arguments that are not a JSON object give
// input {} and, before the tool_use block, a text block quoting them, so
// nothing the model wrote is lost and every client (and Anthropic, if the
// conversation goes there later) takes the message back. stop_reason:
// stop -> end_turn (or tool_use when there are tool calls), length ->
// max_tokens, tool_calls and function_call -> tool_use, content_filter
// (or a refusal) -> refusal; stop_sequence is null (the chat API does not
// say which stop sequence matched). usage: input_tokens = prompt_tokens
// minus the cached (prompt_tokens_details.cached_tokens, which is
// cache_read_input_tokens) and LiteLLM's cache_creation_input_tokens.
//
// # Streams (StreamFromChat)
//
// message_start comes with the first chunk (its usage is the chunk's if it
// has one, else zeros), then content blocks in order, one open at a time
// as Anthropic sends them: thinking_delta for reasoning_content,
// text_delta for content, and for each tool call (a new index, or a new id
// at an index) a tool_use block with its id and name whose argument
// fragments are input_json_delta events. The finish_reason closes the open
// block; message_delta (stop_reason, and the usage of the final usage
// chunk: output_tokens, input_tokens and the cache counts) and
// message_stop follow the source's end, then io.EOF. Source errors are
// returned as they are (the gateway sends them as an error event); a chunk
// with an "error" becomes a *wire.Error with its message. A stream that
// ends before its first chunk is a 502.
package bridge
