// Package bedrock is the bedrock provider: Amazon Bedrock's runtime,
// called with AWS Signature Version 4.
//
// # Chat (the Converse API, for every Bedrock chat model)
//
// POST {endpoint}/model/{modelId}/converse and /converse-stream, where
// endpoint is aws_bedrock_runtime_endpoint (else api_base, else
// https://bedrock-runtime.{region}.amazonaws.com) and modelId is the
// upstream model without LiteLLM's "converse/" route: a model id, a
// cross-region inference profile id (us.anthropic.claude-...) or an ARN,
// escaped as AWS's REST protocols escape a path label (every byte but
// A-Z a-z 0-9 - _ . ~, so ':' is %3A; SigV4 escapes it once more in the
// canonical request: %253A).
//
// Requests (translateRequest): system and developer messages -> system
// blocks; user and assistant messages -> content blocks (consecutive
// messages of one role merged, a "." user turn first when the history
// starts with the assistant); text parts -> text blocks (blank ones left
// out); image_url data URLs -> image blocks (png, jpeg, gif, webp); an
// http(s) image URL is a 400 (the gateway fetches nothing for a client);
// assistant tool_calls -> toolUse blocks (arguments parsed); tool
// messages -> toolResult blocks in a user turn; thinking_blocks ->
// reasoningContent blocks (signature kept); cache_control -> a cachePoint
// after the marked block. tools -> toolConfig.tools[].toolSpec (a tool the
// history calls but the request does not define gets an empty-schema
// definition: Bedrock refuses toolUse blocks without a toolConfig);
// tool_choice auto -> auto, required -> any, a named function -> tool,
// none -> the tools left out; response_format json_object / json_schema
// -> a forced tool json_tool_call whose input is the answer (LiteLLM's
// way). max_completion_tokens / max_tokens, temperature, top_p, stop ->
// inferenceConfig; reasoning_effort (low 1024, medium 2048, high 4096
// tokens) or thinking -> additionalModelRequestFields.thinking for
// Anthropic models (reasoning_effort as is for OpenAI gpt-oss models, a
// 400 for others); top_k -> additionalModelRequestFields for Anthropic
// models; n > 1 is a 400.
//
// Answers: text -> content, toolUse -> tool_calls, reasoningContent ->
// reasoning_content and thinking_blocks; stopReason end_turn and
// stop_sequence -> stop, max_tokens -> length, tool_use -> tool_calls,
// guardrail_intervened and content_filtered -> content_filter; usage as
// the anthropic package reports it: prompt_tokens = inputTokens +
// cacheReadInputTokens + cacheWriteInputTokens, with
// prompt_tokens_details.cached_tokens, cache_read_input_tokens and
// cache_creation_input_tokens (pricing.Price.CostOf prices the cached
// parts at their own rates).
//
// Streams: the AWS event-stream frames (decoded with the SDK's
// eventstream package) become chat.completion.chunk payloads: messageStart
// -> the role chunk, contentBlockStart (toolUse) -> a tool call's id and
// name, contentBlockDelta -> content / tool call arguments /
// reasoning_content, messageStop -> the finish chunk, metadata -> the
// usage chunk when the request asked stream_options.include_usage.
// Exception frames end the stream with a *wire.Error of the exception's
// status (throttlingException 429, modelStreamErrorException 424, ...).
//
// # Embeddings (InvokeModel)
//
// Amazon Titan text embeddings (one inputText per call: several inputs
// are several calls, four at a time; dimensions for v2) and Cohere embed
// v3 (texts[], input_type default search_document), answered in OpenAI's
// list shape; usage is Titan's inputTextTokenCount, for Cohere Bedrock's
// X-Amzn-Bedrock-Input-Token-Count header (the gateway's tokenizer when it
// is missing). encoding_format base64 is honoured.
//
// # Credentials
//
// aws_access_key_id + aws_secret_access_key (+ aws_session_token) from the
// deployment's resolved secrets; aws_role_name (+ aws_session_name)
// assumed with STS AssumeRole using those keys as source (aws_sts_endpoint
// when set), cached until five minutes before expiry; without keys, and
// only for the operator's deployments (MayUseHostIdentity), the SDK's
// default credential chain. A team deployment without keys is a 401 naming
// the params to set. Every connection (runtime, STS, the chain's own
// calls) goes through the shared client's dialers (For, HTTPFor), so a
// team's endpoints pass the api_base policy. Credential providers are
// cached per deployment id and a hash of the credential material,
// bounded. Errors are scrubbed of every secret of the deployment and of
// the assumed role's session credentials.
package bedrock
