// Package bridge serves OpenAI's Responses API (POST /v1/responses, what
// the Vercel AI SDK's default openai(model) and Codex send) over any
// provider that speaks chat: the providers without a native Responses API
// (anthropic, the OpenAI-compatible hosts by name, and the clouds that
// translate chat to their own APIs). It mirrors providers/anthropic/bridge.
// The gateway uses it when the resolved deployment's registry entry does
// not list registry.EndpointResponses:
//
//	chat, stream, werr := bridge.RequestToChat(body, opts) // the body's model is the upstream's already
//	resp, err := provider.Complete(call)                   // or OpenStream
//	echo := bridge.EchoOf(body, clientModel)
//	out, werr := bridge.ResponseFromChat(resp.Body, echo)
//	events := bridge.StreamFromChat(chatStream, echo)
//
// Errors are *wire.Error in OpenAI's shape (type invalid_request_error,
// param named). Each stream event's data starts with its "type" member and
// carries a sequence_number, so the gateway's relay names the SSE events
// from it; the stream ends after response.completed (no [DONE]).
//
// # State
//
// The gateway keeps no conversations for a bridged model:
// previous_response_id, conversation, background: true, prompt (stored
// prompt templates) and input items of type item_reference are refused
// with a 400 that names the parameter and says to send the full input (or
// use a model with a native Responses API). store: true (the API's
// default) is accepted and the answer says "store": false. Response ids
// are "resp_" + the chat id (without "chatcmpl-"): the gateway seals them
// as it seals native ones, and a GET or DELETE of one is a 404 saying
// bridged responses are not stored.
//
// # Requests (RequestToChat)
//
//   - instructions -> the first message, role system.
//   - input: a string -> one user message; items: message items (roles
//     user, assistant, system; developer becomes system, which every
//     chat translation reads) with content a string or parts: input_text,
//     output_text, refusal -> text (joined by newlines for assistant and
//     system messages, or a lone text, which become a string);
//     input_image with image_url -> an image_url part (detail kept),
//     with file_id -> 400 (the Files API is OpenAI's); input_file with
//     file_data -> a file part, file_id / file_url -> 400. function_call
//     items -> tool_calls of the assistant message before them
//     (consecutive calls and the assistant's text make one chat message);
//     function_call_output -> role tool messages (text parts joined);
//     reasoning items are dropped (chat APIs take no reasoning back);
//     other item types (built-in tool calls) -> 400.
//   - tools: function -> chat function tools (name, description,
//     parameters or an empty object schema, strict); namespace (a group
//     of functions, as Codex sends) -> one chat function per member named
//     <namespace>__<name>, split back into name and namespace in the
//     answer's function_call items; the built-in tools (web_search*,
//     file_search, computer_use*, code_interpreter, mcp,
//     image_generation, local_shell, shell, apply_patch, custom) -> 400
//     naming the tool and saying it needs a provider with a native
//     Responses API.
//   - tool_choice auto / none / required as is, {"type":"function",name}
//     -> the named function, allowed_tools -> its mode; a built-in tool ->
//     400. tool_choice and parallel_tool_calls are dropped without tools
//     (the chat API refuses them).
//   - max_output_tokens -> max_tokens (what every chat translation and
//     OpenAI-compatible server reads; Options.MaxCompletionTokens sends
//     max_completion_tokens); temperature, top_p as is; user (or
//     safety_identifier) -> user; metadata, store, include, truncation,
//     service_tier, prompt_cache_key, text.verbosity, reasoning.summary
//     and client_metadata are dropped.
//   - text.format json_object / json_schema (name, description, schema,
//     strict) -> response_format.
//   - reasoning.effort -> reasoning_effort (minimal -> low, xhigh -> high;
//     none is dropped), unless Options.NoReasoning (the gateway sets it
//     for an OpenAI-compatible host's model that is not known to take
//     it: Codex sends an effort with every request).
//   - stream -> stream and stream_options.include_usage true (the gateway
//     drops include_usage for a deployment that cannot take it).
//
// # Answers (ResponseFromChat)
//
// A Responses object: id, object "response", created_at (the chat's
// created), status completed, or incomplete with incomplete_details.reason
// max_output_tokens (finish_reason length) or content_filter; model the
// client's; output: a reasoning item whose summary is the message's
// reasoning_content (or reasoning), a message item with one output_text
// part (or a refusal part), then one function_call item per tool call
// (id "fc_" + the call id, call_id, name, arguments); usage input_tokens
// (the prompt_tokens, cached included, as OpenAI counts them),
// input_tokens_details.cached_tokens, output_tokens,
// output_tokens_details.reasoning_tokens, total_tokens. The request's
// instructions, max_output_tokens, metadata, parallel_tool_calls,
// reasoning, temperature, text, tool_choice, tools, top_p and user are
// echoed with the API's defaults.
//
// # Streams (StreamFromChat)
//
// response.created and response.in_progress come with the first chunk.
// Reasoning deltas open a reasoning item whose text streams as a summary
// (response.reasoning_summary_part.added,
// response.reasoning_summary_text.delta / .done,
// response.reasoning_summary_part.done): a summary is what every
// Responses client shows. Content opens a message item
// (response.output_item.added, response.content_part.added,
// response.output_text.delta, then .done events); refusals stream as
// response.refusal.delta. Each tool call (a new index, or a new id at an
// index) is a function_call item: response.output_item.added with its
// call_id and name, response.function_call_arguments.delta per fragment;
// the calls close (response.function_call_arguments.done,
// response.output_item.done) at the finish_reason. At the source's end:
// response.completed (or response.incomplete) with the whole response and
// the usage of the final usage chunk (zeros when the upstream sent none:
// the gateway then counts the tokens). A source error ends the stream with
// response.failed (status failed, error code server_error or
// rate_limit_exceeded, the output so far) and is returned from Next, so
// the gateway also sends its error event and records the failure; an
// "error" chunk becomes a *wire.Error; a stream that ends before its first
// chunk is a 502.
package bridge
