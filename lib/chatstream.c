/* The accumulation of chat.completion.chunk objects into one response
 * (see chatstream.h for the contract). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "completion.h"
#include "chatstream.h"

/* Longest error message kept, in bytes. */
#define ERROR_MAX 400

struct tool_call {
	char *id, *type, *name; /* NULL until a non-empty string arrives */
	struct buf arguments;
	long index;             /* on the wire; -1 when deltas had none */
};

struct choice {
	char *role, *finish_reason;
	struct buf content, refusal, reasoning, reasoning_content;
	int has_content, has_refusal, has_reasoning, has_reasoning_content;
	struct tool_call **calls;   /* sorted by index, then by arrival */
	size_t ncalls, calls_cap;
	struct tool_call **by_index; /* the latest call per wire index */
};

/* A field of the response's identity, and the rank of the chunk it came
 * from (see add_chunk); rank -1 while none came. */
struct ident {
	jv v;
	int rank;
};

struct chat_stream {
	chat_text_fn *on_text;
	void *ctx;
	struct choice *choices[CHAT_STREAM_MAX_CHOICES];
	struct ident id, created, model, fingerprint, tier;
	jv usage, groq_usage;
	int done, nchoices;
	char *error;
};

struct chat_stream *
chat_stream_new(chat_text_fn *on_text, void *ctx)
{
	struct chat_stream *cs = xmalloc(sizeof *cs);

	memset(cs, 0, sizeof *cs);
	cs->on_text = on_text;
	cs->ctx = ctx;
	cs->id.v = cs->created.v = cs->model.v = jv_invalid();
	cs->fingerprint.v = cs->tier.v = jv_invalid();
	cs->id.rank = cs->created.rank = cs->model.rank = -1;
	cs->fingerprint.rank = cs->tier.rank = -1;
	cs->usage = jv_invalid();
	cs->groq_usage = jv_invalid();
	return cs;
}

/* Keep the first error: prefix and up to ERROR_MAX bytes of msg, with
 * control characters (C0, DEL, C1) made spaces so it prints safely. */
static void
set_error(struct chat_stream *cs, const char *prefix, const char *msg,
    size_t len)
{
	struct buf b = {0};
	size_t i, cut = len;

	if (cs->error != NULL)
		return;
	if (len == 0) {
		msg = "error event without a message";
		cut = len = strlen(msg);
	}
	if (len > ERROR_MAX) {
		cut = ERROR_MAX;
		while (cut > 0 && ((unsigned char)msg[cut] & 0xC0) == 0x80)
			cut--;
	}
	buf_append_str(&b, prefix);
	for (i = 0; i < cut; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c == 0xC2 && i + 1 < cut &&
		    (unsigned char)msg[i + 1] >= 0x80 &&
		    (unsigned char)msg[i + 1] <= 0x9F) {
			i++;
			c = ' ';
		} else if (c < 0x20 || c == 0x7F) {
			c = ' ';
		}
		buf_append(&b, &c, 1);
	}
	if (cut < len)
		buf_append_str(&b, "...");
	cs->error = b.data;
}

static void
fail(struct chat_stream *cs, const char *msg)
{
	set_error(cs, "", msg, strlen(msg));
}

/* The message of an error payload: error.message, error (a string),
 * message, or else the payload itself. */
static void
error_from_payload(struct chat_stream *cs, jv v, const char *data, size_t len)
{
	jv err = json_get(v, "error");
	const char *msg = NULL;

	if (jv_get_kind(err) == JV_KIND_STRING)
		msg = jv_string_value(err);
	else
		msg = json_get_str(err, "message");
	if (msg == NULL || *msg == '\0')
		msg = json_get_str(v, "message");
	if (msg != NULL && *msg != '\0')
		set_error(cs, "", msg, strlen(msg));
	else
		set_error(cs, "", data, len);
	jv_free(err);
}

/* o.index in [0, max); fallback when it is absent or null, -1 when it is
 * no whole number in range. */
static long
delta_index(jv o, long max, long fallback)
{
	jv v = json_get(o, "index");
	jv_kind kind = jv_get_kind(v);
	double d = kind == JV_KIND_NUMBER ? jv_number_value(v) : -1;

	jv_free(v);
	if (kind == JV_KIND_INVALID || kind == JV_KIND_NULL)
		return fallback;
	if (!(d >= 0 && d < (double)max) || d != (double)(long)d)
		return -1;
	return (long)d;
}

/* The string o[key] when it is non-empty, else NULL (o borrowed). */
static const char *
nonempty_str(jv o, const char *key)
{
	const char *s = json_get_str(o, key);

	return s != NULL && *s != '\0' ? s : NULL;
}

static void
set_str(char **slot, const char *s)
{
	if (s == NULL || (*slot != NULL && strcmp(*slot, s) == 0))
		return;
	free(*slot);
	*slot = xstrdup(s);
}

/* Append like buf_append, but start small (a stream may hold many
 * thousand short strings) and stop at what a jv string holds. */
static void
append_text(struct chat_stream *cs, struct buf *b, const char *s, size_t n)
{
	if (n > (size_t)INT_MAX - b->len) {
		fail(cs, "reply too large");
		return;
	}
	if (b->cap == 0) {
		b->cap = 64;
		b->data = xmalloc(b->cap);
	}
	buf_append(b, s, n);
}

/* Append the string s (borrowed) to b, show it when it is not empty (a
 * reasoning text is never shown: show is -1), and mark b as seen. */
static void
add_string(struct chat_stream *cs, int show, jv s, struct buf *b, int *seen)
{
	size_t n = (size_t)jv_string_length_bytes(jv_copy(s));

	*seen = 1;
	if (n == 0)
		return;
	append_text(cs, b, jv_string_value(s), n);
	if (cs->on_text != NULL && show >= 0)
		cs->on_text(cs->ctx, show, jv_string_value(s), n);
}

/* Append the string delta[key], when it is not empty, to b and show
 * it (refusal, as openai-node reads it, and the reasonings). */
static void
add_text(struct chat_stream *cs, int show, jv delta, const char *key,
    struct buf *b, int *seen)
{
	jv s = json_get(delta, key);

	if (jv_get_kind(s) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(s)) > 0)
		add_string(cs, show, s, b, seen);
	jv_free(s);
}

/* The text of a list of parts (borrowed): each {"type":"text","text":S}
 * appended to b; others are skipped. */
static void
add_text_parts(struct chat_stream *cs, int show, jv parts, struct buf *b,
    int *seen)
{
	int i, n = jv_array_length(jv_copy(parts));

	for (i = 0; i < n; i++) {
		jv part = jv_array_get(jv_copy(parts), i);
		const char *type = json_get_str(part, "type");
		jv text = json_get(part, "text");

		if (type != NULL && strcmp(type, "text") == 0 &&
		    jv_get_kind(text) == JV_KIND_STRING)
			add_string(cs, show, text, b, seen);
		jv_free(text);
		jv_free(part);
	}
}

/* delta.content as a list of parts (Mistral's reasoning models): text
 * parts go to the content, the text of thinking parts to reasoning. */
static void
add_content_parts(struct chat_stream *cs, int k, struct choice *ch,
    jv parts)
{
	int i, n = jv_array_length(jv_copy(parts));

	for (i = 0; i < n; i++) {
		jv part = jv_array_get(jv_copy(parts), i);
		const char *type = json_get_str(part, "type");
		jv thinking = json_get(part, "thinking");

		if (type != NULL && strcmp(type, "text") == 0) {
			jv one = JV_ARRAY(jv_copy(part));

			add_text_parts(cs, k, one, &ch->content,
			    &ch->has_content);
			jv_free(one);
		} else if (type != NULL && strcmp(type, "thinking") == 0 &&
		    jv_get_kind(thinking) == JV_KIND_ARRAY)
			add_text_parts(cs, -1, thinking, &ch->reasoning,
			    &ch->has_reasoning);
		else if (type != NULL && strcmp(type, "thinking") == 0 &&
		    jv_get_kind(thinking) == JV_KIND_STRING)
			add_string(cs, -1, thinking, &ch->reasoning,
			    &ch->has_reasoning);
		jv_free(thinking);
		jv_free(part);
	}
}

static struct tool_call *
find_call_by_id(struct choice *ch, const char *id)
{
	size_t i;

	for (i = 0; i < ch->ncalls; i++)
		if (ch->calls[i]->id != NULL && strcmp(ch->calls[i]->id, id) == 0)
			return ch->calls[i];
	return NULL;
}

/* A new call at wire index (-1: none), kept after the calls of lower or
 * equal index; NULL when there are too many. */
static struct tool_call *
new_call(struct choice *ch, long index)
{
	struct tool_call *c;
	unsigned long key = (unsigned long)index; /* -1 sorts last */
	size_t pos;

	if (ch->ncalls == CHAT_STREAM_MAX_CALLS)
		return NULL;
	if (ch->ncalls == ch->calls_cap) {
		ch->calls_cap = ch->calls_cap ? ch->calls_cap * 2 : 4;
		ch->calls = xrealloc(ch->calls, ch->calls_cap * sizeof *ch->calls);
	}
	c = xmalloc(sizeof *c);
	memset(c, 0, sizeof *c);
	c->index = index;
	for (pos = ch->ncalls;
	    pos > 0 && (unsigned long)ch->calls[pos - 1]->index > key; pos--)
		;
	memmove(ch->calls + pos + 1, ch->calls + pos,
	    (ch->ncalls - pos) * sizeof *ch->calls);
	ch->calls[pos] = c;
	ch->ncalls++;
	if (index >= 0) {
		if (ch->by_index == NULL) {
			ch->by_index = xmalloc(CHAT_STREAM_MAX_CALLS *
			    sizeof *ch->by_index);
			memset(ch->by_index, 0, CHAT_STREAM_MAX_CALLS *
			    sizeof *ch->by_index);
		}
		ch->by_index[index] = c;
	}
	return c;
}

/* One element of delta.tool_calls (borrowed). */
static void
add_tool_call(struct chat_stream *cs, struct choice *ch, jv delta)
{
	struct tool_call *c = NULL;
	const char *id;
	long index;
	jv fn, args;

	if (jv_get_kind(delta) != JV_KIND_OBJECT) {
		fail(cs, "malformed chunk: a tool call is not an object");
		return;
	}
	id = nonempty_str(delta, "id");
	index = delta_index(delta, CHAT_STREAM_MAX_CALLS, -2);
	if (index == -1) {
		fail(cs, "malformed chunk: bad tool call index");
		return;
	}
	if (index == -2) {
		index = -1;
		if (id != NULL)
			c = find_call_by_id(ch, id);
	} else if (ch->by_index != NULL) {
		c = ch->by_index[index];
		if (c != NULL && id != NULL && c->id != NULL &&
		    strcmp(c->id, id) != 0)
			c = NULL;
	}
	if (c == NULL && (c = new_call(ch, index)) == NULL) {
		fail(cs, "too many tool calls in one choice");
		return;
	}
	set_str(&c->id, id);
	set_str(&c->type, nonempty_str(delta, "type"));
	fn = json_get(delta, "function");
	set_str(&c->name, nonempty_str(fn, "name"));
	args = json_get(fn, "arguments");
	if (jv_get_kind(args) == JV_KIND_STRING)
		append_text(cs, &c->arguments, jv_string_value(args),
		    (size_t)jv_string_length_bytes(jv_copy(args)));
	jv_free(args);
	jv_free(fn);
}

/* One element of choices (borrowed). */
static void
add_choice(struct chat_stream *cs, jv c)
{
	struct choice *ch;
	jv delta, calls, content;
	long k;
	int i, n;

	if (jv_get_kind(c) != JV_KIND_OBJECT) {
		fail(cs, "malformed chunk: a choice is not an object");
		return;
	}
	if ((k = delta_index(c, CHAT_STREAM_MAX_CHOICES, 0)) < 0) {
		fail(cs, "malformed chunk: bad choice index");
		return;
	}
	if ((ch = cs->choices[k]) == NULL) {
		ch = cs->choices[k] = xmalloc(sizeof *ch);
		memset(ch, 0, sizeof *ch);
		cs->nchoices++;
	}
	set_str(&ch->finish_reason, nonempty_str(c, "finish_reason"));
	delta = json_get(c, "delta");
	set_str(&ch->role, nonempty_str(delta, "role"));
	content = json_get(delta, "content");
	if (jv_get_kind(content) == JV_KIND_STRING)
		add_string(cs, (int)k, content, &ch->content, &ch->has_content);
	else if (jv_get_kind(content) == JV_KIND_ARRAY)
		add_content_parts(cs, (int)k, ch, content);
	jv_free(content);
	add_text(cs, (int)k, delta, "refusal", &ch->refusal, &ch->has_refusal);
	add_text(cs, -1, delta, "reasoning", &ch->reasoning,
	    &ch->has_reasoning);
	add_text(cs, -1, delta, "reasoning_content", &ch->reasoning_content,
	    &ch->has_reasoning_content);
	calls = json_get(delta, "tool_calls");
	if (jv_get_kind(calls) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(calls));
		for (i = 0; i < n && cs->error == NULL; i++) {
			jv call = jv_array_get(jv_copy(calls), i);

			add_tool_call(cs, ch, call);
			jv_free(call);
		}
	}
	jv_free(calls);
	jv_free(delta);
}

/* Keep o[key], when it is of kind (or null, with nullable), from a chunk
 * of this rank: a chunk with a non-empty id (2) always replaces what was
 * kept, as openai-node does; a chunk without one replaces only what came
 * from a lower rank: one with choices (1) what came from a chunk without
 * (0), such as Azure's first chunk (id "", created 0) or the usage chunk
 * of a stream whose usage chunk has an empty id. */
static void
keep_ident(struct ident *f, jv o, const char *key, jv_kind kind,
    int nullable, int rank)
{
	jv v;

	if (rank < 2 && rank <= f->rank)
		return;
	v = json_get(o, key);
	if (jv_get_kind(v) == kind ||
	    (nullable && jv_get_kind(v) == JV_KIND_NULL)) {
		jv_free(f->v);
		f->v = v;
		f->rank = rank;
	} else {
		jv_free(v);
	}
}

/* Keep o[key] as *slot when it is an object. */
static void
keep_object(jv *slot, jv o, const char *key)
{
	jv v = json_get(o, key);

	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv_free(*slot);
		*slot = v;
	} else {
		jv_free(v);
	}
}

static void
add_chunk(struct chat_stream *cs, jv v)
{
	jv choices = json_get(v, "choices"), groq;
	int i, n = 0, rank;

	if (jv_get_kind(choices) == JV_KIND_ARRAY)
		n = jv_array_length(jv_copy(choices));
	rank = nonempty_str(v, "id") != NULL ? 2 : n > 0;
	keep_ident(&cs->id, v, "id", JV_KIND_STRING, 0, rank);
	keep_ident(&cs->created, v, "created", JV_KIND_NUMBER, 0, rank);
	keep_ident(&cs->model, v, "model", JV_KIND_STRING, 0, rank);
	keep_ident(&cs->fingerprint, v, "system_fingerprint", JV_KIND_STRING,
	    1, rank);
	keep_ident(&cs->tier, v, "service_tier", JV_KIND_STRING, 1, rank);
	keep_object(&cs->usage, v, "usage");
	groq = json_get(v, "x_groq");
	keep_object(&cs->groq_usage, groq, "usage");
	jv_free(groq);
	if (jv_get_kind(choices) == JV_KIND_ARRAY) {
		for (i = 0; i < n && cs->error == NULL; i++) {
			jv c = jv_array_get(jv_copy(choices), i);

			add_choice(cs, c);
			jv_free(c);
		}
	} else if (jv_is_valid(choices) &&
	    jv_get_kind(choices) != JV_KIND_NULL) {
		fail(cs, "malformed chunk: choices is not an array");
	}
	jv_free(choices);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

int
chat_stream_event(void *ctx, const char *type, const char *data, size_t len)
{
	struct chat_stream *cs = ctx;
	const char *object;
	size_t i, n = len;
	jv v;

	if (cs->error != NULL || cs->done)
		return 1;
	if (strcmp(type, "error") != 0) {
		for (i = 0; i < n && is_space(data[i]); i++)
			;
		while (n > i && is_space(data[n - 1]))
			n--;
		if (i == n)
			return 0; /* an empty keep-alive */
		if (n - i == 6 && memcmp(data + i, "[DONE]", 6) == 0) {
			if (cs->nchoices == 0)
				fail(cs, "no choice before [DONE]: the "
				    "response is empty");
			cs->done = 1;
			return 1;
		}
	}
	v = json_parse(data, len);
	if (strcmp(type, "error") == 0) {
		error_from_payload(cs, v, data, len);
	} else if (!jv_is_valid(v)) {
		char *msg = json_invalid_message(jv_copy(v));

		set_error(cs, "malformed chunk: ", msg, strlen(msg));
		free(msg);
	} else if (jv_get_kind(v) != JV_KIND_OBJECT) {
		fail(cs, "malformed chunk: not a JSON object");
	} else if ((object = json_get_str(v, "object")) != NULL &&
	    strcmp(object, "error") == 0) {
		error_from_payload(cs, v, data, len);
	} else {
		jv e = json_get(v, "error");

		if (jv_is_valid(e) && jv_get_kind(e) != JV_KIND_NULL &&
		    jv_get_kind(e) != JV_KIND_FALSE)
			error_from_payload(cs, v, data, len);
		else
			add_chunk(cs, v);
		jv_free(e);
	}
	jv_free(v);
	return cs->error != NULL;
}

enum chat_stream_state
chat_stream_state(const struct chat_stream *cs)
{
	int k, seen = 0;

	if (cs->error != NULL)
		return CHAT_STREAM_ERROR;
	if (cs->done)
		return CHAT_STREAM_COMPLETE;
	for (k = 0; k < CHAT_STREAM_MAX_CHOICES; k++) {
		if (cs->choices[k] == NULL)
			continue;
		if (cs->choices[k]->finish_reason == NULL)
			return CHAT_STREAM_TRUNCATED;
		seen = 1;
	}
	return seen ? CHAT_STREAM_COMPLETE : CHAT_STREAM_TRUNCATED;
}

const char *
chat_stream_error(const struct chat_stream *cs)
{
	return cs->error;
}

static jv
text_or_null(const struct buf *b, int seen)
{
	return seen ? jv_string_sized(b->data, (int)b->len) : jv_null();
}

static jv
str_or(const char *s, const char *fallback)
{
	return jv_string(s != NULL ? s : fallback);
}

static jv
choice_result(const struct choice *ch, int k)
{
	jv msg = jv_object(), calls, fn;
	size_t i;

	msg = jv_object_set(msg, jv_string("role"), str_or(ch->role,
	    "assistant"));
	msg = jv_object_set(msg, jv_string("content"),
	    text_or_null(&ch->content, ch->has_content));
	msg = jv_object_set(msg, jv_string("refusal"),
	    text_or_null(&ch->refusal, ch->has_refusal));
	if (ch->has_reasoning)
		msg = jv_object_set(msg, jv_string("reasoning"),
		    text_or_null(&ch->reasoning, 1));
	if (ch->has_reasoning_content)
		msg = jv_object_set(msg, jv_string("reasoning_content"),
		    text_or_null(&ch->reasoning_content, 1));
	if (ch->ncalls > 0) {
		calls = jv_array();
		for (i = 0; i < ch->ncalls; i++) {
			const struct tool_call *c = ch->calls[i];

			fn = jv_object_set(jv_object(), jv_string("name"),
			    str_or(c->name, ""));
			fn = jv_object_set(fn, jv_string("arguments"),
			    c->arguments.len > 0 ? jv_string_sized(
			    c->arguments.data, (int)c->arguments.len) :
			    jv_string(""));
			calls = jv_array_append(calls, JV_OBJECT(
			    jv_string("id"), str_or(c->id, ""),
			    jv_string("type"), str_or(c->type, "function"),
			    jv_string("function"), fn));
		}
		msg = jv_object_set(msg, jv_string("tool_calls"), calls);
	}
	return chat_choice(k, msg, ch->finish_reason != NULL ?
	    jv_string(ch->finish_reason) : jv_null());
}

static jv
copy_or_null(jv v)
{
	return jv_is_valid(v) ? jv_copy(v) : jv_null();
}

jv
chat_stream_result(const struct chat_stream *cs)
{
	jv r, choices = jv_array();
	int k;

	r = chat_completion_head(copy_or_null(cs->id.v),
	    copy_or_null(cs->created.v), copy_or_null(cs->model.v));
	if (jv_is_valid(cs->fingerprint.v))
		r = jv_object_set(r, jv_string("system_fingerprint"),
		    jv_copy(cs->fingerprint.v));
	if (jv_is_valid(cs->tier.v))
		r = jv_object_set(r, jv_string("service_tier"),
		    jv_copy(cs->tier.v));
	for (k = 0; k < CHAT_STREAM_MAX_CHOICES; k++)
		if (cs->choices[k] != NULL)
			choices = jv_array_append(choices,
			    choice_result(cs->choices[k], k));
	r = jv_object_set(r, jv_string("choices"), choices);
	if (jv_is_valid(cs->usage))
		r = jv_object_set(r, jv_string("usage"), jv_copy(cs->usage));
	else if (jv_is_valid(cs->groq_usage))
		r = jv_object_set(r, jv_string("usage"),
		    jv_copy(cs->groq_usage));
	return r;
}

void
chat_stream_free(struct chat_stream *cs)
{
	struct choice *ch;
	size_t i;
	int k;

	if (cs == NULL)
		return;
	for (k = 0; k < CHAT_STREAM_MAX_CHOICES; k++) {
		if ((ch = cs->choices[k]) == NULL)
			continue;
		for (i = 0; i < ch->ncalls; i++) {
			free(ch->calls[i]->id);
			free(ch->calls[i]->type);
			free(ch->calls[i]->name);
			buf_free(&ch->calls[i]->arguments);
			free(ch->calls[i]);
		}
		free(ch->calls);
		free(ch->by_index);
		free(ch->role);
		free(ch->finish_reason);
		buf_free(&ch->content);
		buf_free(&ch->refusal);
		buf_free(&ch->reasoning);
		buf_free(&ch->reasoning_content);
		free(ch);
	}
	jv_free(cs->id.v);
	jv_free(cs->created.v);
	jv_free(cs->model.v);
	jv_free(cs->fingerprint.v);
	jv_free(cs->tier.v);
	jv_free(cs->usage);
	jv_free(cs->groq_usage);
	free(cs->error);
	free(cs);
}
