/*
 * Streamed Chat Completions (`stream: true`): the accumulator of their
 * chunks, without I/O of its own, fed one server-sent event at a time by
 * the decoder of sse.h.
 *
 * chat_stream accumulates the data of each event, chat.completion.chunk
 * objects, into one response of the non-streaming shape, as openai-node's
 * ChatCompletionStream does, without losing what it loses: per choice
 * index, content is appended (null until a string arrives, "" when every
 * piece is ""), refusal appended (null until a non-empty string), role
 * and finish_reason set when non-empty.  A content that is a list of
 * parts (Mistral's reasoning models) adds the text of its "text" parts to
 * the content and that of its "thinking" parts to "reasoning"; the
 * "reasoning" and "reasoning_content" deltas (vLLM, Ollama, Groq,
 * OpenRouter, DeepSeek, llama.cpp) are appended too, and each appears in
 * the message when it came.  Per tool call index, id, type and
 * function.name are set when non-empty (never appended: servers repeat
 * them or send "" later) and function.arguments is appended.  A tool call
 * delta without an index starts a new call unless its id is that of an
 * earlier call; one with an index whose call already has a different id
 * starts a new call too (old Ollama numbered every parallel call 0).
 * The response's id, created, model, system_fingerprint and service_tier
 * are those of the last chunk with a non-empty id that carries them, as
 * in openai-node; a chunk with an empty or no id counts only when no
 * such chunk came, and one without choices (Azure's first chunk: id "",
 * model "", created 0; a usage chunk with id "") only when no other
 * came.  An id or model of "" is kept as "".  The usage is the last
 * non-null one, else Groq's x_groq.usage; logprobs are dropped.
 * "[DONE]" ends the stream; empty data is a keep-alive.  An event of
 * type "error", a payload with an "error" other than null or false (or
 * "object":"error"), or one not a JSON object is a stream error, whose
 * message is error.message, error, message or the payload, cut short and
 * with control characters made spaces; so is a "[DONE]" before any
 * choice (an empty response).  At most CHAT_STREAM_MAX_CHOICES choices
 * and CHAT_STREAM_MAX_CALLS tool calls per choice; an index out of
 * range, or not a whole number, is an error too.  Where openai-node would
 * throw (no role, a call without index, id or type, no finish_reason),
 * role "assistant", id "", type "function" and finish_reason null stand
 * in.
 *
 *	cs = chat_stream_new(show_text, NULL);
 *	sse_init(&dec, SSE_EVENT_MAX, chat_stream_event, cs);
 *	while ((n = read(...)) > 0 && sse_feed(&dec, piece, n) == SSE_MORE)
 *		;
 *	cut = sse_finish(&dec);
 *	switch (chat_stream_state(cs)) ...
 *	response = chat_stream_result(cs);
 *	sse_free(&dec);
 *	chat_stream_free(cs);
 *
 * Nothing here exits or prints: hostile input gives an error state, and
 * only running out of memory ends the process (xmalloc).
 */
#ifndef LLM_CHATSTREAM_H
#define LLM_CHATSTREAM_H

#include <stddef.h>

#include <jv.h>

#define CHAT_STREAM_MAX_CHOICES 128
#define CHAT_STREAM_MAX_CALLS 1024

enum chat_stream_state {
	CHAT_STREAM_TRUNCATED, /* no [DONE], and some choice (or none at all)
	                          without a finish_reason */
	CHAT_STREAM_COMPLETE,  /* [DONE], or a finish_reason on every choice */
	CHAT_STREAM_ERROR      /* see chat_stream_error() */
};

/* Shows text as it arrives: each non-empty content or refusal fragment of
 * each choice, never a reasoning (show choice 0 only for one reply). */
typedef void chat_text_fn(void *ctx, int choice, const char *text,
    size_t len);

struct chat_stream;

/* on_text may be NULL. */
struct chat_stream *chat_stream_new(chat_text_fn *on_text, void *ctx);
/* Add one event (an sse_event_fn: ctx is the chat_stream, data[len] must
 * be NUL).  1 when the stream is over ([DONE] or an error), else 0. */
int chat_stream_event(void *ctx, const char *type, const char *data,
    size_t len);
enum chat_stream_state chat_stream_state(const struct chat_stream *cs);
/* The error message (short, printable), or NULL. */
const char *chat_stream_error(const struct chat_stream *cs);
/* The response so far as a chat.completion object (new reference):
 * choices sorted by index, each message {role, content, refusal,
 * reasoning and reasoning_content (only when they came), tool_calls
 * (only when there are calls)}, usage when seen. */
jv chat_stream_result(const struct chat_stream *cs);
void chat_stream_free(struct chat_stream *cs);

#endif
