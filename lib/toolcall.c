/* Finding and normalizing the tool calls of a response. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "toolcall.h"

static jv
shape_error(const char *fmt, const char *a)
{
	return jv_invalid_with_msg(jv_string_fmt(fmt, a));
}

jv
response_message(jv response)
{
	jv choices, choice, message, err;

	if (jv_get_kind(response) != JV_KIND_OBJECT)
		return shape_error("the response is %s, not an object",
		    json_kind_name(response));
	err = json_get(response, "error");
	if (jv_get_kind(err) == JV_KIND_OBJECT) {
		const char *m = json_get_str(err, "message");
		jv e = shape_error("the response is an API error: %s",
		    m ? m : "(no message)");
		jv_free(err);
		return e;
	}
	jv_free(err);
	choices = json_get(response, "choices");
	if (jv_get_kind(choices) != JV_KIND_ARRAY) {
		jv_free(choices);
		return shape_error("the response has no %s array", "choices");
	}
	if (jv_array_length(jv_copy(choices)) == 0) {
		jv_free(choices);
		return shape_error("the response has an empty %s array",
		    "choices");
	}
	choice = jv_array_get(choices, 0);
	message = json_get(choice, "message");
	jv_free(choice);
	if (jv_get_kind(message) != JV_KIND_OBJECT) {
		jv_free(message);
		return shape_error("choices[0] has no %s object", "message");
	}
	return message;
}

/* FNV-1a, 64 bits. */
static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* splitmix64's finalizer: spreads every input bit over the output. */
static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Ids (whole jv strings, NUL bytes and all) to the number of the first
 * call or result that has each: a hash table, so that n calls cost O(n). */
struct id_index {
	struct id_slot {
		uint64_t hash;
		jv id;          /* jv_invalid() when the slot is free */
		int index;
	} *slot;
	size_t n, cap;
};

static void
id_index_free(struct id_index *x)
{
	size_t i;

	for (i = 0; i < x->cap; i++)
		jv_free(x->slot[i].id);
	free(x->slot);
}

/* The slot of id (borrowed, a string) in x: its own, or the free one
 * where it belongs. */
static struct id_slot *
id_slot(struct id_index *x, jv id, uint64_t hash)
{
	size_t len = (size_t)jv_string_length_bytes(jv_copy(id));
	size_t i = (size_t)hash & (x->cap - 1);
	struct id_slot *e;

	for (;; i = (i + 1) & (x->cap - 1)) {
		e = &x->slot[i];
		if (!jv_is_valid(e->id))
			return e;
		if (e->hash == hash && (size_t)jv_string_length_bytes(
		    jv_copy(e->id)) == len && memcmp(jv_string_value(e->id),
		    jv_string_value(id), len) == 0)
			return e;
	}
}

static uint64_t
id_hash(jv id)
{
	return mix64(fnv1a(jv_string_value(id),
	    (size_t)jv_string_length_bytes(jv_copy(id))));
}

/* The index recorded for id (borrowed), or -1. */
static int
id_index_get(struct id_index *x, jv id)
{
	struct id_slot *e;

	if (x->cap == 0 || jv_get_kind(id) != JV_KIND_STRING)
		return -1;
	e = id_slot(x, id, id_hash(id));
	return jv_is_valid(e->id) ? e->index : -1;
}

/* Record id (borrowed) with index unless it is there: 0, or -1 when it
 * was (its first index stays). */
static int
id_index_add(struct id_index *x, jv id, int index)
{
	uint64_t hash = id_hash(id);
	struct id_slot *e;
	size_t i;

	if (2 * (x->n + 1) > x->cap) {
		struct id_index bigger = {NULL, 0, x->cap ? 2 * x->cap : 16};

		bigger.slot = xmalloc(bigger.cap * sizeof *bigger.slot);
		for (i = 0; i < bigger.cap; i++)
			bigger.slot[i].id = jv_invalid();
		for (i = 0; i < x->cap; i++)
			if (jv_is_valid(x->slot[i].id))
				*id_slot(&bigger, x->slot[i].id,
				    x->slot[i].hash) = x->slot[i];
		bigger.n = x->n;
		free(x->slot);
		*x = bigger;
	}
	e = id_slot(x, id, hash);
	if (jv_is_valid(e->id))
		return -1;
	e->hash = hash;
	e->id = jv_copy(id);
	e->index = index;
	x->n++;
	return 0;
}

/* A deterministic id for call number index, from the hash of the whole
 * response, so that tool-extract and tool-append generate the same one. */
static jv
generated_id(uint64_t h, int index)
{
	uint64_t h1 = mix64(h + 0x9e3779b97f4a7c15ULL * (uint64_t)(index + 1));
	uint64_t h2 = mix64(h1 ^ h);

	return jv_string_fmt("call_%016llx%08llx", (unsigned long long)h1,
	    (unsigned long long)(h2 >> 32));
}

/* arguments as a JSON string: an object (or any non-string) is
 * serialized, missing, null and "" become "{}". */
static jv
arguments_string(jv args)
{
	switch (jv_get_kind(args)) {
	case JV_KIND_INVALID:
	case JV_KIND_NULL:
		jv_free(args);
		return jv_string("{}");
	case JV_KIND_STRING:
		if (jv_string_length_bytes(jv_copy(args)) == 0) {
			jv_free(args);
			return jv_string("{}");
		}
		return args;
	default:
		return jv_dump_string(args, 0);
	}
}

/* The hash generated ids start from: of the whole response, computed
 * once however many calls need an id. */
struct id_seed {
	jv response;
	int known;
	uint64_t hash;
};

static uint64_t
id_seed_hash(struct id_seed *seed)
{
	if (!seed->known) {
		char *text = json_dump(jv_copy(seed->response));
		seed->hash = fnv1a(text, strlen(text));
		seed->known = 1;
		free(text);
	}
	return seed->hash;
}

/* One raw call (consumed) in the OpenAI shape, or invalid. */
static jv
normalize_call(jv raw, int index, struct id_index *taken, struct id_seed *seed)
{
	jv fn, name, id, out;
	const char *type;
	char where[48];

	snprintf(where, sizeof where, "tool call %d", index);
	if (jv_get_kind(raw) != JV_KIND_OBJECT) {
		jv e = jv_invalid_with_msg(jv_string_fmt("%s is %s, not an object",
		    where, json_kind_name(raw)));
		jv_free(raw);
		return e;
	}
	type = json_get_str(raw, "type");
	if (type != NULL && strcmp(type, "function") != 0) {
		jv e = jv_invalid_with_msg(jv_string_fmt(
		    "%s has type \"%s\"; only function calls are supported",
		    where, type));
		jv_free(raw);
		return e;
	}
	fn = json_get(raw, "function");
	name = json_get(fn, "name");
	if (jv_get_kind(name) != JV_KIND_STRING) {
		jv e = jv_invalid_with_msg(jv_string_fmt(
		    "%s has no function name", where));
		jv_free(name);
		jv_free(fn);
		jv_free(raw);
		return e;
	}
	id = json_get(raw, "id");
	if (jv_get_kind(id) == JV_KIND_NUMBER)
		id = jv_dump_string(id, 0);
	if (jv_get_kind(id) != JV_KIND_STRING ||
	    jv_string_length_bytes(jv_copy(id)) == 0 ||
	    json_string_has_nul(id) || id_index_add(taken, id, index) != 0) {
		jv_free(id);
		id = generated_id(id_seed_hash(seed), index);
		/* A model may have sent this very id for a later call. */
		id_index_add(taken, id, index);
	}
	out = JV_OBJECT(jv_string("id"), id, jv_string("type"),
	    jv_string("function"), jv_string("function"),
	    JV_OBJECT(jv_string("name"), name, jv_string("arguments"),
	    arguments_string(json_get(fn, "arguments"))));
	jv_free(fn);
	jv_free(raw);
	return out;
}

jv
normalize_tool_calls(jv response, jv message)
{
	jv raw = json_get(message, "tool_calls");
	jv calls = jv_array();
	struct id_index taken = {0};
	struct id_seed seed = {response, 0, 0};
	int i, n;

	if (jv_get_kind(raw) == JV_KIND_INVALID ||
	    jv_get_kind(raw) == JV_KIND_NULL) {
		/* The legacy single function_call becomes one call. */
		jv fc = json_get(message, "function_call");
		jv_free(raw);
		if (jv_get_kind(fc) == JV_KIND_OBJECT)
			raw = JV_ARRAY(JV_OBJECT(jv_string("type"),
			    jv_string("function"), jv_string("function"), fc));
		else {
			jv_free(fc);
			raw = jv_array();
		}
	}
	if (jv_get_kind(raw) != JV_KIND_ARRAY) {
		jv e = jv_invalid_with_msg(jv_string_fmt(
		    "tool_calls is %s, not an array", json_kind_name(raw)));
		jv_free(raw);
		jv_free(calls);
		return e;
	}
	n = jv_array_length(jv_copy(raw));
	for (i = 0; i < n; i++) {
		jv c = normalize_call(jv_array_get(jv_copy(raw), i), i, &taken,
		    &seed);
		if (!jv_is_valid(c)) {
			jv_free(calls);
			calls = c;
			break;
		}
		calls = jv_array_append(calls, c);
	}
	id_index_free(&taken);
	jv_free(raw);
	return calls;
}

jv
assistant_message_for_request(jv message, jv calls)
{
	jv out = JV_OBJECT(jv_string("role"), jv_string("assistant"));
	jv content = json_get(message, "content");
	jv refusal = json_get(message, "refusal");

	if (jv_get_kind(content) == JV_KIND_INVALID) {
		jv_free(content);
		content = jv_null();
	}
	out = jv_object_set(out, jv_string("content"), content);
	if (jv_get_kind(refusal) == JV_KIND_STRING)
		out = jv_object_set(out, jv_string("refusal"), refusal);
	else
		jv_free(refusal);
	if (jv_array_length(jv_copy(calls)) > 0)
		out = jv_object_set(out, jv_string("tool_calls"), calls);
	else
		jv_free(calls);
	return out;
}

static jv
tool_choice_value(const char *text)
{
	if (strcmp(text, "auto") == 0 || strcmp(text, "none") == 0 ||
	    strcmp(text, "required") == 0)
		return jv_string(text);
	if (!valid_tool_name(text))
		return jv_invalid();
	return JV_OBJECT(jv_string("type"), jv_string("function"),
	    jv_string("function"), JV_OBJECT(jv_string("name"),
	    jv_string(text)));
}

/* The tool_call_id of result j (new reference; jv_invalid() if none). */
static jv
result_id(jv results, int j)
{
	jv r = jv_array_get(jv_copy(results), j);
	jv id = json_get(r, "tool_call_id");

	jv_free(r);
	return id;
}

jv
results_in_call_order(jv calls, jv results)
{
	int ncalls, nres, i, j;
	char *used, *twice;
	struct id_index by_id = {0};
	jv out = jv_array(), err = jv_invalid();

	if (jv_get_kind(calls) != JV_KIND_ARRAY ||
	    jv_get_kind(results) != JV_KIND_ARRAY) {
		jv_free(out);
		return jv_invalid_with_msg(jv_string("calls and results must "
		    "be arrays"));
	}
	ncalls = jv_array_length(jv_copy(calls));
	nres = jv_array_length(jv_copy(results));
	used = xmalloc((size_t)nres + 1);
	twice = xmalloc((size_t)nres + 1);
	memset(used, 0, (size_t)nres + 1);
	memset(twice, 0, (size_t)nres + 1);
	/* Ids compare whole: "a" does not answer "a\u0000b". */
	for (j = 0; j < nres; j++) {
		jv rid = result_id(results, j);
		if (jv_get_kind(rid) == JV_KIND_STRING &&
		    id_index_add(&by_id, rid, j) != 0)
			twice[id_index_get(&by_id, rid)] = 1;
		jv_free(rid);
	}
	for (i = 0; i < ncalls && jv_is_valid(out); i++) {
		jv call = jv_array_get(jv_copy(calls), i);
		jv id = json_get(call, "id");
		const char *name = jv_get_kind(id) == JV_KIND_STRING ?
		    jv_string_value(id) : "(without an id)";
		int found = id_index_get(&by_id, id);

		if (found >= 0 && twice[found])
			err = jv_string_fmt("tool call %s has more than one "
			    "result", name);
		else if (found < 0)
			err = jv_string_fmt("tool call %s has no result; the "
			    "API rejects a conversation without one", name);
		if (jv_is_valid(err)) {
			jv_free(out);
			out = jv_invalid_with_msg(err);
			err = jv_invalid();
		} else {
			used[found] = 1;
			out = jv_array_append(out,
			    jv_array_get(jv_copy(results), found));
		}
		jv_free(id);
		jv_free(call);
	}
	for (j = 0; j < nres && jv_is_valid(out); j++) {
		if (!used[j]) {
			jv rid = result_id(results, j);
			jv_free(out);
			out = jv_invalid_with_msg(jv_string_fmt("result for %s "
			    "answers no tool call of the response",
			    jv_get_kind(rid) == JV_KIND_STRING ?
			    jv_string_value(rid) : "(without an id)"));
			jv_free(rid);
		}
	}
	id_index_free(&by_id);
	free(used);
	free(twice);
	return out;
}

jv
tool_choice_option(const char *text)
{
	jv choice = tool_choice_value(text);

	if (!jv_is_valid(choice))
		die(EXIT_USAGE, "-C: not auto, none, required or a function "
		    "name: %s", text);
	return choice;
}
