/*
 * Server-sent events, as streamed Chat Completions (`stream: true`) send
 * them: a decoder without I/O of its own, fed the bytes of a response as
 * they arrive, in pieces of any size (a line, a CRLF or a UTF-8 character
 * may be split between pieces).  Its events go to a callback such as
 * chat_stream_event (chatstream.h).
 *
 * sse_decoder splits server-sent events: lines end in LF, CR or CRLF;
 * lines starting with ':' are comments; the data: lines of an event join
 * with "\n" (one space after the colon is dropped); event: sets the event
 * type; id:, retry: and unknown fields are ignored; a blank line hands the
 * event to a callback.  Bytes pass through undecoded.  An event without
 * its blank line at the end of the stream is discarded, as the SSE spec
 * says; sse_finish() tells whether that happened.
 *
 * Nothing here exits or prints: hostile input gives an error status, and
 * only running out of memory ends the process (xmalloc).
 */
#ifndef LLM_SSE_H
#define LLM_SSE_H

#include <stddef.h>

#include "common.h"

/* Longest line, and largest data of one event (16 MiB). */
#define SSE_EVENT_MAX ((size_t)16 << 20)

enum {
	SSE_MORE = 0,     /* feed more */
	SSE_STOPPED = 1,  /* the callback asked to stop: the stream is over */
	SSE_TOO_LONG = -1 /* a line or an event was longer than the limit */
};

/* Called per event: type is "message" unless an event: line said otherwise;
 * data[len] is NUL (data itself may hold NUL bytes).  Nonzero stops. */
typedef int sse_event_fn(void *ctx, const char *type, const char *data,
    size_t len);

struct sse_decoder {
	sse_event_fn *on_event;
	void *ctx;
	size_t max;      /* longest line, and largest event data */
	struct buf line; /* the line being read, without its end */
	struct buf data; /* the data: lines of the event, joined with "\n" */
	struct buf type; /* the event: line of the event */
	int has_data;    /* a data: line was seen in this event */
	int after_cr;    /* the last piece ended in CR: an LF next is its end */
	int started;     /* a first line was seen (it may begin with a BOM) */
	int status;      /* SSE_MORE, or how decoding ended */
};

void sse_init(struct sse_decoder *d, size_t max, sse_event_fn *on_event,
    void *ctx);
/* Decode n more bytes; SSE_MORE, or the status that ended decoding (it
 * stays: later calls return it again and decode nothing). */
int sse_feed(struct sse_decoder *d, const char *p, size_t n);
/* At the end of the stream: 1 when it ended inside an event (cut off),
 * 0 when it ended on an event boundary or decoding had stopped. */
int sse_finish(struct sse_decoder *d);
void sse_free(struct sse_decoder *d);

#endif
