/* chat.completion objects, and the chunks that stream one. */
#include <stdlib.h>

#include "completion.h"
#include "json.h"

#define FRAGMENT_MAX 8 /* bytes per streamed text piece */

void
completion_init(struct completion *c)
{
	c->id = jv_invalid();
	c->created = jv_invalid();
	c->model = jv_invalid();
	c->content = jv_null();
	c->refusal = jv_null();
	c->tool_calls = jv_array();
	c->finish_reason = jv_invalid();
	c->usage = jv_invalid();
	c->more = jv_array();
}

void
completion_free(struct completion *c)
{
	jv_free(c->id);
	jv_free(c->created);
	jv_free(c->model);
	jv_free(c->content);
	jv_free(c->refusal);
	jv_free(c->tool_calls);
	jv_free(c->finish_reason);
	jv_free(c->usage);
	jv_free(c->more);
}

jv
chat_completion_head(jv id, jv created, jv model)
{
	return JV_OBJECT(jv_string("id"), id,
	    jv_string("object"), jv_string("chat.completion"),
	    jv_string("created"), created, jv_string("model"), model);
}

jv
chat_choice(int index, jv message, jv finish_reason)
{
	return JV_OBJECT(jv_string("index"), jv_number(index),
	    jv_string("message"), message, jv_string("logprobs"), jv_null(),
	    jv_string("finish_reason"), finish_reason);
}

jv
completion_body(const struct completion *c)
{
	jv msg = JV_OBJECT(jv_string("role"), jv_string("assistant"),
	    jv_string("content"), jv_copy(c->content),
	    jv_string("refusal"), jv_copy(c->refusal));
	jv body;

	if (jv_array_length(jv_copy(c->tool_calls)) > 0)
		msg = jv_object_set(msg, jv_string("tool_calls"),
		    jv_copy(c->tool_calls));
	body = chat_completion_head(jv_copy(c->id), jv_copy(c->created),
	    jv_copy(c->model));
	body = jv_object_set(body, jv_string("choices"),
	    JV_ARRAY(chat_choice(0, msg, jv_copy(c->finish_reason))));
	return jv_object_set(body, jv_string("usage"), jv_copy(c->usage));
}

/* Append "data: CHUNK\n\n" for a chunk with these choices (consumed). */
static void
sse_chunk(struct buf *out, const struct completion *c, jv choices, jv usage)
{
	jv chunk = JV_OBJECT(jv_string("id"), jv_copy(c->id),
	    jv_string("object"), jv_string("chat.completion.chunk"),
	    jv_string("created"), jv_copy(c->created),
	    jv_string("model"), jv_copy(c->model), jv_string("choices"),
	    choices);
	char *s;

	if (jv_is_valid(usage))
		chunk = jv_object_set(chunk, jv_string("usage"), usage);
	s = json_dump(chunk);
	buf_printf(out, "data: %s\n\n", s);
	free(s);
}

static void
sse_delta(struct buf *out, const struct completion *c, int k, jv delta,
    jv finish)
{
	sse_chunk(out, c, JV_ARRAY(JV_OBJECT(jv_string("index"), jv_number(k),
	    jv_string("delta"), delta, jv_string("logprobs"), jv_null(),
	    jv_string("finish_reason"), finish)), jv_invalid());
}

/* The length of the next piece of s: at most FRAGMENT_MAX bytes, never
 * ending inside a UTF-8 character. */
static size_t
fragment_len(const char *s, size_t len)
{
	size_t n = len < FRAGMENT_MAX ? len : FRAGMENT_MAX, k = n;

	if (n < len) {
		while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
			k--;
		if (k > 0)
			n = k;
	}
	return n;
}

/* Stream the string text of choice k in pieces: delta {key: piece}, or
 * with a tool index >= 0, delta {tool_calls: [{index, function:
 * {arguments: piece}}]}. */
static void
sse_text(struct buf *out, const struct completion *c, int k, jv text,
    const char *key, int tool)
{
	const char *s = jv_get_kind(text) == JV_KIND_STRING ?
	    jv_string_value(text) : "";
	size_t len = jv_get_kind(text) == JV_KIND_STRING ?
	    (size_t)jv_string_length_bytes(jv_copy(text)) : 0, off, m;
	jv piece;

	for (off = 0; off < len; off += m) {
		m = fragment_len(s + off, len - off);
		piece = jv_string_sized(s + off, (int)m);
		if (tool < 0)
			sse_delta(out, c, k, JV_OBJECT(jv_string(key), piece),
			    jv_null());
		else
			sse_delta(out, c, k, JV_OBJECT(jv_string("tool_calls"),
			    JV_ARRAY(JV_OBJECT(jv_string("index"),
			    jv_number(tool), jv_string("function"),
			    JV_OBJECT(jv_string("arguments"), piece)))),
			    jv_null());
	}
}

/* The events of choice k: its role, text, refusal, tool calls and
 * finish_reason (all borrowed).  As OpenAI does, the first delta has
 * content "" when there is a text, else null. */
static void
choice_sse(struct buf *out, const struct completion *c, int k, jv content,
    jv refusal, jv tool_calls, jv finish_reason)
{
	int i, calls = jv_array_length(jv_copy(tool_calls));

	sse_delta(out, c, k, JV_OBJECT(jv_string("role"),
	    jv_string("assistant"), jv_string("content"),
	    jv_get_kind(content) == JV_KIND_STRING ? jv_string("") :
	    jv_null()), jv_null());
	sse_text(out, c, k, content, "content", -1);
	sse_text(out, c, k, refusal, "refusal", -1);
	for (i = 0; i < calls; i++) {
		jv tc = jv_array_get(jv_copy(tool_calls), i);
		jv fn = json_get(tc, "function");

		sse_delta(out, c, k, JV_OBJECT(jv_string("tool_calls"),
		    JV_ARRAY(JV_OBJECT(jv_string("index"), jv_number(i),
		    jv_string("id"), json_get(tc, "id"),
		    jv_string("type"), jv_string("function"),
		    jv_string("function"), JV_OBJECT(jv_string("name"),
		    json_get(fn, "name"), jv_string("arguments"),
		    jv_string(""))))), jv_null());
		jv_free(tc);
		tc = json_get(fn, "arguments");
		sse_text(out, c, k, tc, NULL, i);
		jv_free(tc);
		jv_free(fn);
	}
	sse_delta(out, c, k, jv_object(), jv_copy(finish_reason));
}

void
completion_sse(struct buf *out, const struct completion *c, int with_usage)
{
	int k, n = jv_array_length(jv_copy(c->more));

	choice_sse(out, c, 0, c->content, c->refusal, c->tool_calls,
	    c->finish_reason);
	for (k = 0; k < n; k++) {
		jv o = jv_array_get(jv_copy(c->more), k);
		jv content = json_get(o, "content"), refusal = json_get(o,
		    "refusal"), calls = json_get(o, "tool_calls"),
		    finish = json_get(o, "finish_reason");

		choice_sse(out, c, k + 1, content, refusal, calls, finish);
		jv_free(content);
		jv_free(refusal);
		jv_free(calls);
		jv_free(finish);
		jv_free(o);
	}
	if (with_usage)
		sse_chunk(out, c, jv_array(), jv_copy(c->usage));
	buf_append_str(out, "data: [DONE]\n\n");
}
