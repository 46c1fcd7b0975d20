/*
 * One Chat Completions call as llm-request makes it: the POST made
 * through a connection holder ($LLM_HOLDER, lib/holder.c) when one
 * answers, else by libcurl here; failures that may pass (network errors,
 * timeouts, 408, 409, 429, 5xx) retried as the official SDKs do, after
 * the server's retry-after or an exponential backoff with jitter, and as
 * its x-should-retry says; a response larger than its limit refused; a
 * streamed response decoded (lib/sse.c) and added up into one
 * (lib/chatstream.c), its text shown on standard error as it comes when
 * asked; the response checked
 * (a JSON object without an error) before it is handed over, so that a
 * caller writes one whole document or nothing.
 */
#ifndef LLM_CHATCALL_H
#define LLM_CHATCALL_H

#include <stddef.h>

#include "common.h"
#include "http.h"

/* What the caller sets; every pointer is borrowed for the call. */
struct chat_call {
	struct http_call http;   /* the POST: URL, body, headers, timeouts */
	const char *shown_url;   /* the URL as messages show it */
	const char *holder;      /* the holder's socket; NULL or "": none */
	size_t max_response;     /* the most bytes a response may have */
	long retries;            /* retries of transient failures */
	int stream;              /* the body asks for a stream */
	int show;                /* show streamed text on stderr */
	const char *status_text; /* with show: a status line until the text
	                            comes (NULL: none) */
	int quiet;               /* do not report retries */
};

/*
 * Make the call. On success 0, and the response appended to out (the
 * caller's, freed by the caller) as it is to be written, ending in a
 * newline: the body as the server sent it (numbers keep every digit),
 * or for a stream the chat.completion it adds up to, indented when
 * indent is set. Otherwise say why on stderr and return the exit code:
 * 2 for a URL libcurl cannot use, 4 when the API refuses the request or
 * its certificate does not verify, 5 when a transient failure outlives
 * the retries or the response is broken. Exits 5 when libcurl cannot be
 * loaded.
 */
int chat_call_run(const struct chat_call *call, struct buf *out, int indent);

#endif
