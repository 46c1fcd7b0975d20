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

/* A deterministic id for call number index, from the whole response, so
 * that tool-extract and tool-append generate the same one. */
static jv
generated_id(const char *response_text, int index)
{
	uint64_t h = fnv1a(response_text, strlen(response_text));
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

static int
id_taken(jv calls, const char *id)
{
	int i, n = jv_array_length(jv_copy(calls)), taken = 0;

	for (i = 0; i < n && !taken; i++) {
		jv c = jv_array_get(jv_copy(calls), i);
		const char *s = json_get_str(c, "id");
		taken = s != NULL && strcmp(s, id) == 0;
		jv_free(c);
	}
	return taken;
}

/* One raw call (consumed) in the OpenAI shape, or invalid. */
static jv
normalize_call(jv raw, int index, jv done, const char **resp_text, jv response)
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
	    json_string_has_nul(id) ||
	    id_taken(done, jv_string_value(id))) {
		jv_free(id);
		if (*resp_text == NULL)
			*resp_text = json_dump(jv_copy(response));
		id = generated_id(*resp_text, index);
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
	const char *resp_text = NULL;
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
		jv c = normalize_call(jv_array_get(jv_copy(raw), i), i, calls,
		    &resp_text, response);
		if (!jv_is_valid(c)) {
			jv_free(calls);
			calls = c;
			break;
		}
		calls = jv_array_append(calls, c);
	}
	free((char *)resp_text);
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

jv
results_in_call_order(jv calls, jv results)
{
	int ncalls, nres, i, j;
	char *used;
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

	memset(used, 0, (size_t)nres + 1);
	for (i = 0; i < ncalls && jv_is_valid(out); i++) {
		jv call = jv_array_get(jv_copy(calls), i);
		const char *id = json_get_str(call, "id");
		int found = -1;

		for (j = 0; j < nres && id != NULL; j++) {
			jv r = jv_array_get(jv_copy(results), j);
			const char *rid = json_get_str(r, "tool_call_id");
			if (rid != NULL && strcmp(rid, id) == 0) {
				if (found >= 0 && !jv_is_valid(err))
					err = jv_string_fmt("tool call %s has more "
					    "than one result", id);
				found = j;
			}
			jv_free(r);
		}
		if (found < 0 && !jv_is_valid(err))
			err = jv_string_fmt("tool call %s has no result; the "
			    "API rejects a conversation without one",
			    id != NULL ? id : "(without an id)");
		if (jv_is_valid(err)) {
			jv_free(out);
			out = jv_invalid_with_msg(err);
			err = jv_invalid();
		} else {
			used[found] = 1;
			out = jv_array_append(out,
			    jv_array_get(jv_copy(results), found));
		}
		jv_free(call);
	}
	for (j = 0; j < nres && jv_is_valid(out); j++) {
		if (!used[j]) {
			jv r = jv_array_get(jv_copy(results), j);
			const char *rid = json_get_str(r, "tool_call_id");
			jv_free(out);
			out = jv_invalid_with_msg(jv_string_fmt("result for %s "
			    "answers no tool call of the response",
			    rid != NULL ? rid : "(without an id)"));
			jv_free(r);
		}
	}
	free(used);
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
