/* Server-sent events: the decoder (see sse.h for the contract). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "sse.h"

void
sse_init(struct sse_decoder *d, size_t max, sse_event_fn *on_event, void *ctx)
{
	memset(d, 0, sizeof *d);
	d->max = max;
	d->on_event = on_event;
	d->ctx = ctx;
	d->status = SSE_MORE;
}

static void
sse_dispatch(struct sse_decoder *d)
{
	if (d->has_data && d->on_event(d->ctx,
	    d->type.len > 0 ? d->type.data : "message", d->data.data,
	    d->data.len) != 0)
		d->status = SSE_STOPPED;
	d->data.len = 0;
	d->type.len = 0;
	d->has_data = 0;
}

/* One whole line, without its end. */
static void
sse_line(struct sse_decoder *d, const char *s, size_t len)
{
	const char *colon, *v;
	size_t flen, vlen;

	if (!d->started) {
		d->started = 1;
		if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3;
			len -= 3;
		}
	}
	if (len == 0) {
		sse_dispatch(d);
		return;
	}
	if (s[0] == ':')
		return;
	colon = memchr(s, ':', len);
	flen = colon != NULL ? (size_t)(colon - s) : len;
	v = colon != NULL ? colon + 1 : s + len;
	vlen = len - (size_t)(v - s);
	if (vlen > 0 && *v == ' ') {
		v++;
		vlen--;
	}
	if (flen == 4 && memcmp(s, "data", 4) == 0) {
		if (d->data.len + vlen + 1 > d->max) {
			d->status = SSE_TOO_LONG;
			return;
		}
		if (d->has_data)
			buf_append(&d->data, "\n", 1);
		buf_append(&d->data, v, vlen);
		d->has_data = 1;
	} else if (flen == 5 && memcmp(s, "event", 5) == 0) {
		d->type.len = 0;
		buf_append(&d->type, v, vlen);
	}
}

int
sse_feed(struct sse_decoder *d, const char *p, size_t n)
{
	const char *end, *q;

	if (n == 0)
		return d->status;
	for (end = p + n; d->status == SSE_MORE && p < end; p = q + 1) {
		if (d->after_cr) {
			d->after_cr = 0;
			if (*p == '\n') {
				q = p;
				continue;
			}
		}
		for (q = p; q < end && *q != '\n' && *q != '\r'; q++)
			;
		if ((size_t)(q - p) > d->max - d->line.len) {
			d->status = SSE_TOO_LONG;
			break;
		}
		if (q == end) {
			buf_append(&d->line, p, (size_t)(q - p));
			break;
		}
		if (d->line.len == 0) {
			sse_line(d, p, (size_t)(q - p));
		} else {
			buf_append(&d->line, p, (size_t)(q - p));
			sse_line(d, d->line.data, d->line.len);
			d->line.len = 0;
		}
		d->after_cr = *q == '\r';
	}
	return d->status;
}

int
sse_finish(struct sse_decoder *d)
{
	return d->status == SSE_MORE && (d->line.len > 0 || d->has_data);
}

void
sse_free(struct sse_decoder *d)
{
	buf_free(&d->line);
	buf_free(&d->data);
	buf_free(&d->type);
}
