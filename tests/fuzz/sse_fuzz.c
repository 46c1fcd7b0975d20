/*
 * libFuzzer harness for lib/sse.c and lib/chatstream.c: the input is a
 * response body.  It is decoded whole and again in pieces whose sizes
 * derive from the first byte; both runs must give the same response,
 * state and live text.
 *
 * make fuzz-build builds it (build/fuzz-libfuzzer/fuzz/sse); seed it
 * with streams such as *.sse.
 *
 * libjq 1.6 leaks a string when a payload has two values without a
 * separator (jv_parse.c value() drops its argument on "Expected separator
 * between values"; later versions free it): such events are added with
 * leak checking off.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "fuzz.h"
#include "sse.h"
#include "chatstream.h"


/* Small enough that over-long lines and events happen. */
#define FUZZ_EVENT_MAX 4096

struct outcome {
	struct buf text;   /* live text of every choice, tagged by choice */
	char *response;
	char *error;
	int feed, cut, state;
};

static void
on_text(void *ctx, int choice, const char *text, size_t len)
{
	struct buf *b = ctx;
	char tag = (char)('0' + choice % 64);

	buf_append(b, &tag, 1);
	buf_append(b, text, len);
}

/* chat_stream_event, with leak checking off for payloads that make
 * libjq 1.6 leak. */
static int
add_event(void *ctx, const char *type, const char *data, size_t len)
{
	int leaky = 0, r;
	jv v, msg;

	LEAKS_OFF();
	v = jv_parse_sized(data, (int)len);
	if (!jv_is_valid(v)) {
		msg = jv_invalid_get_msg(v);
		leaky = jv_get_kind(msg) == JV_KIND_STRING &&
		    strstr(jv_string_value(msg), "Expected separator") != NULL;
		jv_free(msg);
	} else {
		jv_free(v);
	}
	LEAKS_ON();
	if (!leaky)
		return chat_stream_event(ctx, type, data, len);
	LEAKS_OFF();
	r = chat_stream_event(ctx, type, data, len);
	LEAKS_ON();
	return r;
}

static void
run(const uint8_t *data, size_t size, unsigned seed, struct outcome *o)
{
	struct chat_stream *cs;
	struct sse_decoder d;
	size_t off = 0, n;

	memset(o, 0, sizeof *o);
	cs = chat_stream_new(on_text, &o->text);
	sse_init(&d, FUZZ_EVENT_MAX, add_event, cs);
	o->feed = SSE_MORE;
	while (off < size && o->feed == SSE_MORE) {
		if (seed == 0) {
			n = size - off;
		} else {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % (1 + (seed & 0x3f ? 7 : 300));
			if (n > size - off)
				n = size - off;
		}
		o->feed = sse_feed(&d, (const char *)data + off, n);
		off += n;
	}
	o->cut = sse_finish(&d);
	o->state = chat_stream_state(cs);
	if (chat_stream_error(cs) != NULL)
		o->error = xstrdup(chat_stream_error(cs));
	o->response = json_dump(chat_stream_result(cs));
	sse_free(&d);
	chat_stream_free(cs);
}

static void
outcome_free(struct outcome *o)
{
	buf_free(&o->text);
	free(o->response);
	free(o->error);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, pieces;
	unsigned seed;

	if (size == 0)
		return 0;
	seed = data[0] | 0x100u;
	data++;
	size--;
	run(data, size, 0, &whole);
	run(data, size, seed, &pieces);
	if (whole.feed != pieces.feed || whole.cut != pieces.cut ||
	    whole.state != pieces.state ||
	    strcmp(whole.response, pieces.response) != 0 ||
	    (whole.error == NULL) != (pieces.error == NULL) ||
	    (whole.error != NULL && strcmp(whole.error, pieces.error) != 0) ||
	    whole.text.len != pieces.text.len ||
	    (whole.text.len > 0 &&
	    memcmp(whole.text.data, pieces.text.data, whole.text.len) != 0))
		abort();
	outcome_free(&whole);
	outcome_free(&pieces);
	return 0;
}
