/* The text of a reply, and tool calls written in it as text (see
 * textcalls.h for the forms read). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "jsonscan.h"
#include "textcalls.h"
#include "toolcall.h"

#define HERMES_OPEN "<tool_call>"
#define HERMES_CLOSE "</tool_call>"
#define MISTRAL_MARK "[TOOL_CALLS]"
#define MISTRAL_ARGS "[ARGS]"
#define MISTRAL_ID "[CALL_ID]"
#define LLAMA_MARK "<|python_tag|>"

jv
message_text(jv message)
{
	jv content = json_get(message, "content"), text;
	struct buf b = {0};
	int i, n, any = 0;

	if (jv_get_kind(content) == JV_KIND_STRING)
		return content;
	if (jv_get_kind(content) != JV_KIND_ARRAY) {
		jv_free(content);
		return jv_null();
	}
	n = jv_array_length(jv_copy(content));
	for (i = 0; i < n; i++) {
		jv part = jv_array_get(jv_copy(content), i);
		const char *type = json_get_str(part, "type");
		jv t = json_get(part, "text");

		if (type != NULL && strcmp(type, "text") == 0 &&
		    jv_get_kind(t) == JV_KIND_STRING) {
			buf_append(&b, jv_string_value(t),
			    (size_t)jv_string_length_bytes(jv_copy(t)));
			any = 1;
		}
		jv_free(t);
		jv_free(part);
	}
	jv_free(content);
	text = any ? jv_string_sized(b.len > 0 ? b.data : "", (int)b.len) :
	    jv_null();
	buf_free(&b);
	return text;
}

jv
message_with_text(jv message)
{
	jv content = json_get(message, "content");
	int parts = jv_get_kind(content) == JV_KIND_ARRAY;

	jv_free(content);
	if (!parts)
		return message;
	content = message_text(message);
	return jv_object_set(message, jv_string("content"), content);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t
skip_blanks(const char *s, size_t n, size_t pos)
{
	while (pos < n && is_blank(s[pos]))
		pos++;
	return pos;
}

/* Does s[pos..n) start with the NUL-terminated word? */
static int
starts_with(const char *s, size_t n, size_t pos, const char *word)
{
	size_t k = strlen(word);

	return n - pos >= k && memcmp(s + pos, word, k) == 0;
}

/* Where word first is in s[pos..n), or n. */
static size_t
find(const char *s, size_t n, size_t pos, const char *word)
{
	const char *p = memmem(s + pos, n - pos, word, strlen(word));

	return p != NULL ? (size_t)(p - s) : n;
}

/* The length of the JSON object or array at s[0..n), found by its
 * brackets outside strings; 0 when it does not start or close there. */
static size_t
json_extent(const char *s, size_t n)
{
	size_t i, depth = 0;
	int in_string = 0;

	if (n == 0 || (s[0] != '{' && s[0] != '['))
		return 0;
	for (i = 0; i < n; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = 0;
		} else if (s[i] == '"') {
			in_string = 1;
		} else if (s[i] == '{' || s[i] == '[') {
			depth++;
		} else if ((s[i] == '}' || s[i] == ']') && --depth == 0) {
			return i + 1;
		}
	}
	return 0;
}

/* s[0..n) parsed when it is one strict JSON value, else invalid. */
static jv
parse_strict(const char *s, size_t n)
{
	size_t at;
	char *copy;
	jv v;

	if (n == 0 || json_scan(s, n, NULL, NULL, &at) != 0)
		return jv_invalid();
	copy = xmalloc(n + 1);
	memcpy(copy, s, n);
	copy[n] = '\0';
	v = json_parse(copy, n);
	free(copy);
	return v;
}

/* Append the call named name (consumed) with args and id (consumed) to
 * *calls; -1 when it is no call. */
static int
add_call(jv *calls, jv name, jv args, jv id)
{
	jv fn, call;
	int ok = jv_get_kind(name) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(name)) > 0 &&
	    !json_string_has_nul(name);

	switch (jv_get_kind(args)) {
	case JV_KIND_INVALID:
	case JV_KIND_NULL:
		jv_free(args);
		args = jv_string("{}");
		break;
	case JV_KIND_OBJECT:
		args = jv_dump_string(args, 0);
		break;
	case JV_KIND_STRING:
		break;
	default:
		ok = 0;
	}
	if (!ok) {
		jv_free(name);
		jv_free(args);
		jv_free(id);
		return -1;
	}
	fn = JV_OBJECT(jv_string("name"), name, jv_string("arguments"), args);
	call = JV_OBJECT(jv_string("type"), jv_string("function"),
	    jv_string("function"), fn);
	if (jv_get_kind(id) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(id)) > 0)
		call = jv_object_set(call, jv_string("id"), id);
	else
		jv_free(id);
	*calls = jv_array_append(*calls, call);
	return 0;
}

/* A call written as a JSON object (consumed): {name, arguments or
 * parameters, id}. */
static int
add_call_object(jv *calls, jv o)
{
	jv args;
	int rc;

	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		jv_free(o);
		return -1;
	}
	args = json_get(o, "arguments");
	if (!jv_is_valid(args)) {
		jv_free(args);
		args = json_get(o, "parameters");
	}
	rc = add_call(calls, json_get(o, "name"), args, json_get(o, "id"));
	jv_free(o);
	return rc;
}

/* Hermes and Qwen: <tool_call>JSON</tool_call>, the last one perhaps
 * unclosed.  The JSON ends where its brackets close, so that a closing
 * tag inside a string of the arguments is only text. */
static int
parse_hermes(const char *s, size_t n, jv *calls, struct buf *rest)
{
	size_t pos = 0, open, start, k;

	while ((open = find(s, n, pos, HERMES_OPEN)) < n) {
		buf_append(rest, s + pos, open - pos);
		start = skip_blanks(s, n, open + strlen(HERMES_OPEN));
		k = json_extent(s + start, n - start);
		if (k == 0 || add_call_object(calls,
		    parse_strict(s + start, k)) < 0)
			return -1;
		pos = skip_blanks(s, n, start + k);
		if (starts_with(s, n, pos, HERMES_CLOSE))
			pos += strlen(HERMES_CLOSE);
		else if (pos < n)
			return -1;
	}
	buf_append(rest, s + pos, n - pos);
	return 0;
}

/* Mistral's newer form at s[pos..n): NAME[ARGS]JSON or
 * NAME[CALL_ID]ID[ARGS]JSON; where it ends, or 0 when it is broken. */
static size_t
mistral_named_call(const char *s, size_t n, size_t pos, jv *calls)
{
	size_t args = find(s, n, pos, MISTRAL_ARGS), k;
	size_t idpos = find(s, args, pos, MISTRAL_ID);
	size_t end = idpos < args ? idpos : args;
	jv name, id = jv_invalid();

	if (args == n)
		return 0;
	while (end > pos && is_blank(s[end - 1]))
		end--;
	name = jv_string_sized(s + pos, (int)(end - pos));
	if (idpos < args)
		id = jv_string_sized(s + idpos + strlen(MISTRAL_ID),
		    (int)(args - idpos - strlen(MISTRAL_ID)));
	pos = skip_blanks(s, n, args + strlen(MISTRAL_ARGS));
	k = json_extent(s + pos, n - pos);
	if (!valid_tool_name(jv_string_value(name)) || k == 0) {
		jv_free(name);
		jv_free(id);
		return 0;
	}
	return add_call(calls, name, parse_strict(s + pos, k), id) < 0 ? 0 :
	    pos + k;
}

/* Mistral: [TOOL_CALLS] then a JSON array of calls, or the newer form,
 * each repeatable. */
static int
parse_mistral(const char *s, size_t n, jv *calls, struct buf *rest)
{
	size_t pos = find(s, n, 0, MISTRAL_MARK), k;
	jv list;
	int i, len;

	buf_append(rest, s, pos);
	while (starts_with(s, n, pos, MISTRAL_MARK)) {
		pos = skip_blanks(s, n, pos + strlen(MISTRAL_MARK));
		if (pos < n && s[pos] == '[') {
			k = json_extent(s + pos, n - pos);
			list = parse_strict(s + pos, k);
			len = jv_get_kind(list) == JV_KIND_ARRAY ?
			    jv_array_length(jv_copy(list)) : 0;
			for (i = 0; i < len; i++)
				if (add_call_object(calls,
				    jv_array_get(jv_copy(list), i)) < 0)
					break;
			jv_free(list);
			if (len == 0 || i < len)
				return -1;
			pos += k;
		} else if ((pos = mistral_named_call(s, n, pos, calls)) == 0) {
			return -1;
		}
		pos = skip_blanks(s, n, pos);
	}
	buf_append(rest, s + pos, n - pos);
	return 0;
}

/* Llama 3: <|python_tag|> then JSON objects separated by ";", perhaps
 * ended by <|eom_id|> or <|eot_id|>. */
static int
parse_llama(const char *s, size_t n, jv *calls, struct buf *rest)
{
	size_t pos = find(s, n, 0, LLAMA_MARK), k;

	buf_append(rest, s, pos);
	pos += strlen(LLAMA_MARK);
	for (;;) {
		pos = skip_blanks(s, n, pos);
		k = json_extent(s + pos, n - pos);
		if (add_call_object(calls, parse_strict(s + pos, k)) < 0)
			return -1;
		pos = skip_blanks(s, n, pos + k);
		if (pos < n && s[pos] == ';' &&
		    skip_blanks(s, n, pos + 1) < n &&
		    s[skip_blanks(s, n, pos + 1)] == '{')
			pos++;
		else
			break;
	}
	if (starts_with(s, n, pos, "<|eom_id|>") ||
	    starts_with(s, n, pos, "<|eot_id|>"))
		pos += strlen("<|eom_id|>");
	buf_append(rest, s + pos, n - pos);
	return 0;
}

jv
text_calls_parse(const char *text, size_t len, jv *rest)
{
	jv calls = jv_array();
	struct buf out = {0};
	size_t lo, hi;
	int rc;

	if (find(text, len, 0, HERMES_OPEN) < len)
		rc = parse_hermes(text, len, &calls, &out);
	else if (find(text, len, 0, MISTRAL_MARK) < len)
		rc = parse_mistral(text, len, &calls, &out);
	else if (find(text, len, 0, LLAMA_MARK) < len)
		rc = parse_llama(text, len, &calls, &out);
	else
		rc = -1;
	if (rc < 0 || jv_array_length(jv_copy(calls)) == 0) {
		buf_free(&out);
		jv_free(calls);
		return jv_invalid();
	}
	lo = skip_blanks(out.data, out.len, 0);
	for (hi = out.len; hi > lo && is_blank(out.data[hi - 1]); hi--)
		;
	*rest = hi > lo ? jv_string_sized(out.data + lo, (int)(hi - lo)) :
	    jv_null();
	buf_free(&out);
	return calls;
}

jv
text_calls_response(jv response)
{
	jv message = response_message(response), own, text, calls, rest;

	if (!jv_is_valid(message)) {
		jv_free(message);
		return response;
	}
	own = json_get(message, "tool_calls");
	text = message_text(message);
	if ((jv_get_kind(own) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(own)) > 0) ||
	    jv_get_kind(text) != JV_KIND_STRING) {
		jv_free(own);
		jv_free(text);
		jv_free(message);
		return response;
	}
	jv_free(own);
	calls = text_calls_parse(jv_string_value(text),
	    (size_t)jv_string_length_bytes(jv_copy(text)), &rest);
	jv_free(text);
	if (!jv_is_valid(calls)) {
		jv_free(calls);
		jv_free(message);
		return response;
	}
	message = jv_object_set(message, jv_string("content"), rest);
	message = jv_object_set(message, jv_string("tool_calls"), calls);
	return jv_setpath(response, JV_ARRAY(jv_string("choices"),
	    jv_number(0), jv_string("message")), message);
}
