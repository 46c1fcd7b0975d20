/*
 * llm-mock's replies: a reply spec (see llm-mock(1), REPLIES) for one
 * chat request turned into a response: a whole body as it is, a raw
 * body or event stream, an error, or a completion built from content,
 * refusal and tool calls (normalized as tool-extract normalizes them,
 * lib/toolcall.c), sent whole or, when the request asks for a stream,
 * as chat.completion.chunk events (lib/completion.c).
 */
#ifndef LLM_REPLY_H
#define LLM_REPLY_H

#include <jv.h>

#include "common.h"
#include "fault.h"
#include "httpd.h"

/* Largest body an sse_file may hold. */
#define REPLY_FILE_MAX ((size_t)64 << 20)

/* Make r an OpenAI-shaped error: {"error": {"message": "llm-mock: ...",
 * "type", "param": null, "code": null}}. */
void reply_error(struct http_response *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The response to chat request n, whose body is req (borrowed, req_len
 * bytes), from reply (consumed) into r and f: 0, or -1 with why. */
int reply_build(struct http_response *r, struct faults *f, jv reply, jv req,
    int n, size_t req_len, struct buf *why);

#endif
