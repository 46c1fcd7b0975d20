/*
 * Chat Completions responses built: the chat.completion object and its
 * choices (shared by the stream accumulator of lib/chatstream.c and by
 * llm-mock), and the event stream of chat.completion.chunk objects that
 * sends the same completion piece by piece, as OpenAI does: a first
 * delta with the role, the text in pieces of at most 8 bytes (never
 * inside a UTF-8 character), each tool call's id and name, then its
 * arguments in pieces, a last delta with the finish_reason, optionally a
 * usage chunk, and "data: [DONE]".
 */
#ifndef LLM_COMPLETION_H
#define LLM_COMPLETION_H

#include <jv.h>

#include "common.h"

/* One assistant message and its envelope, to send whole or streamed. */
struct completion {
	jv id, created, model, content, refusal, tool_calls, finish_reason,
	    usage;
	jv more; /* a whole body's other choices, streamed after the first:
	            [{content, refusal, tool_calls, finish_reason}] */
};

/* Everything unset: id, created, model, finish_reason and usage invalid,
 * content and refusal null, no tool calls, no more choices. */
void completion_init(struct completion *c);
void completion_free(struct completion *c);

/* {id, object: "chat.completion", created, model}, all consumed. */
jv chat_completion_head(jv id, jv created, jv model);
/* {index, message, logprobs: null, finish_reason}, both consumed. */
jv chat_choice(int index, jv message, jv finish_reason);

/* The non-streamed body of c (its first choice). */
jv completion_body(const struct completion *c);
/* The whole event stream of c, every choice in turn, into out. */
void completion_sse(struct buf *out, const struct completion *c,
    int with_usage);

#endif
