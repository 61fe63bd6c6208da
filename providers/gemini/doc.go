package gemini

// How OpenAI's chat maps to the Gemini API (generateContent), following
// LiteLLM's choices (litellm/llms/vertex_ai/gemini/):
//
// Request:
//   - system and developer messages: systemInstruction.parts (text);
//     user: role "user", assistant: role "model"; consecutive turns of
//     the same role are merged into one content; empty texts are dropped.
//   - content parts: text; image_url / file data: URLs (base64) as
//     inlineData; gs:// URIs and Gemini Files API URIs as fileData (mime
//     type from format or the name's extension); input_audio as inlineData
//     audio/<format>. Other http(s) URLs are refused with a 400: the
//     gateway does not fetch URLs on a caller's behalf.
//   - assistant tool_calls: functionCall parts (arguments parsed: they
//     must be a JSON object); a tool call id carrying
//     "__thought__<signature>" (as answers give it) sends the signature
//     back as thoughtSignature. tool messages: functionResponse parts named
//     after the matching tool call; a JSON object answer is the response as
//     is, anything else is wrapped as {"content": "..."}.
//   - tools: one Tool of functionDeclarations, parameters reduced to the
//     OpenAPI subset Gemini's Schema takes ($ref inlined, type lists with
//     null as nullable, oneOf as anyOf, const as enum, unknown keywords and
//     formats dropped, no parameters for a function without properties);
//     web_search as googleSearch. tool_choice auto/none/required/named:
//     functionCallingConfig AUTO/NONE/ANY (+ allowedFunctionNames).
//   - generationConfig: max_completion_tokens (else max_tokens) as
//     maxOutputTokens, temperature, top_p, n as candidateCount, stop as
//     stopSequences, seed, presence/frequency_penalty, logprobs /
//     top_logprobs; response_format json_object as responseMimeType
//     application/json, json_schema as responseJsonSchema (Gemini 2.0 and
//     later; responseSchema, reduced, for 1.x); reasoning_effort as
//     thinkingConfig: a budget (minimal: 128, 1 on 2.5-flash, 512 on
//     2.5-flash-lite; low 1024, medium 2048, high 4096) with
//     includeThoughts for 2.5, a thinkingLevel for 3.x, nothing for models
//     that do not think (1.x, 2.0).
//
// Answer: text parts joined as content, thought parts as
// reasoning_content, functionCall parts as tool_calls (id "call_...");
// finishReason STOP stop (tool_calls when a function was called),
// MAX_TOKENS length, SAFETY / RECITATION / BLOCKLIST / PROHIBITED_CONTENT /
// SPII / IMAGE_SAFETY content_filter; a blocked prompt (promptFeedback.
// blockReason, no candidate) is a 200 whose one choice has content null and
// finish_reason content_filter, as LiteLLM answers it. usageMetadata:
// prompt_tokens = promptTokenCount + toolUsePromptTokenCount,
// completion_tokens = candidatesTokenCount + thoughtsTokenCount (thoughts
// are billed as output), cached_tokens = cachedContentTokenCount,
// reasoning_tokens = thoughtsTokenCount.
//
// Streams (streamGenerateContent?alt=sse) give one chunk per part; the
// usage chunk (when stream_options.include_usage) comes at the end of the
// body, from the last usageMetadata. Google's errors keep their status;
// a 429 gets the retry delay its message states as retry-after.
//
// Embeddings: batchEmbedContents, one request per input (dimensions as
// outputDimensionality), the answer as OpenAI's embedding list (float or
// base64); the API reports no usage, so prompt_tokens is counted with the
// gateway's tokenizer (pricing.CountText).
