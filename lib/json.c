/* Reading, writing and inspecting JSON documents with libjq's jv API. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "term.h"
#include "jsonscan.h"

char *
json_invalid_message(jv v)
{
	jv msg = jv_invalid_get_msg(v);
	char *s, *cut;

	if (jv_get_kind(msg) != JV_KIND_STRING) {
		jv_free(msg);
		return xstrdup("invalid JSON");
	}
	s = xstrdup(jv_string_value(msg));
	jv_free(msg);
	/* libjq appends the whole input; a message must stay short. */
	if ((cut = strstr(s, " (while parsing")) != NULL)
		*cut = '\0';
	return s;
}

/* What is wrong at byte at of text (len bytes), for a message. */
static jv
scan_problem(const char *text, size_t len, size_t at)
{
	unsigned char c = at < len ? (unsigned char)text[at] : 0;

	if (at >= len)
		return jv_string_fmt("unexpected end of input at byte %zu", at);
	if (c > 0x20 && c < 0x7f)
		return jv_string_fmt("unexpected \"%c\" at byte %zu", c, at);
	return jv_string_fmt("unexpected byte 0x%02x at byte %zu", c, at);
}

jv
json_parse(const char *text, size_t len)
{
	jv v;
	char *msg;
	size_t i, at;

	for (i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' &&
		    text[i] != '\r')
			break;
	if (i == len)
		return jv_invalid_with_msg(jv_string("empty input"));
	if (len > (size_t)0x7fffffff)
		return jv_invalid_with_msg(jv_string("document too large"));
	/* libjq also reads NaN, 01, a BOM, lone surrogates and more: only
	 * what RFC 8259 calls JSON gets that far. */
	if (json_scan(text, len, NULL, NULL, &at) != 0)
		return jv_invalid_with_msg(scan_problem(text, len, at));
	v = jv_parse_sized(text, (int)len);
	if (jv_is_valid(v))
		return v;
	msg = json_invalid_message(v);
	v = jv_invalid_with_msg(jv_string(msg));
	free(msg);
	return v;
}

jv
json_parse_arguments(const char *text, size_t len)
{
	size_t at, keylen;
	jv v, key;
	char *m;

	switch (json_scan_unique(text, len, &at, &keylen)) {
	case -1:
		key = scan_problem(text, len, at);
		v = jv_invalid_with_msg(jv_string_fmt("the arguments are not "
		    "valid JSON (%s); send a JSON object", jv_string_value(key)));
		jv_free(key);
		return v;
	case -2:
		key = jv_parse_sized(text + at, (int)keylen + 2);
		v = jv_invalid_with_msg(jv_string_fmt("the arguments hold the "
		    "key \"%.80s\" twice (at byte %zu); send each key once",
		    jv_string_value(key), at));
		jv_free(key);
		return v;
	}
	v = json_parse(text, len);
	if (!jv_is_valid(v)) {
		/* Strict JSON that libjq cannot hold: nested too deep. */
		m = json_invalid_message(v);
		v = jv_invalid_with_msg(jv_string_fmt("the arguments are not "
		    "valid JSON (%s); send a JSON object", m));
		free(m);
		return v;
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv e = jv_invalid_with_msg(jv_string_fmt("the arguments must be "
		    "a JSON object (got %s)", json_kind_name(v)));
		jv_free(v);
		return e;
	}
	return v;
}

jv
json_read_doc(const char *path, const char *what)
{
	struct buf b = {0};
	const char *name = file_name(path);
	jv v;

	read_file_or_die(path, JSON_INPUT_MAX, &b, EXIT_INPUT);
	v = json_parse(b.data, b.len);
	buf_free(&b);
	if (!jv_is_valid(v)) {
		char *msg = json_invalid_message(v);
		warnx("%s (%s): not a JSON document: %s", what, name, msg);
		free(msg);
		exit(EXIT_INPUT);
	}
	return v;
}

char *
json_dump(jv v)
{
	jv s = jv_dump_string(v, 0);
	char *out = xstrdup(jv_string_value(s));

	jv_free(s);
	return out;
}

void
json_write_stdout(jv v)
{
	int tty = isatty(STDOUT_FILENO);
	jv s = jv_dump_string(v, tty ? JV_PRINT_INDENT_FLAGS(2) : 0);
	size_t len = (size_t)jv_string_length_bytes(jv_copy(s));

	/* JSON escapes C0 controls but not DEL, C1 or bidirectional
	 * controls: on a terminal those are shown escaped too. */
	if (tty)
		term_write(stdout, jv_string_value(s), len, TERM_NEWLINES);
	else
		fwrite(jv_string_value(s), 1, len, stdout);
	fputc('\n', stdout);
	jv_free(s);
}

jv
json_get(jv o, const char *key)
{
	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(o), jv_string(key));
}

jv
json_get_or_null(jv o, const char *key)
{
	jv v = json_get(o, key);

	if (jv_is_valid(v))
		return v;
	jv_free(v);
	return jv_null();
}

const char *
json_get_str(jv o, const char *key)
{
	jv v = json_get(o, key);
	const char *s = NULL;

	/* o holds a reference to the string, so the pointer stays valid. */
	if (jv_get_kind(v) == JV_KIND_STRING)
		s = jv_string_value(v);
	jv_free(v);
	return s;
}

jv_kind
json_get_kind(jv o, const char *key)
{
	jv v = json_get(o, key);
	jv_kind kind = jv_get_kind(v);

	jv_free(v);
	return kind;
}

int
json_string_has_nul(jv s)
{
	return jv_get_kind(s) == JV_KIND_STRING &&
	    strlen(jv_string_value(s)) !=
	    (size_t)jv_string_length_bytes(jv_copy(s));
}

const char *
json_kind_name(jv v)
{
	return jv_kind_name(jv_get_kind(v));
}

int
json_array_has_string(jv list, const char *s)
{
	int i, n, yes = 0;

	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return 0;
	}
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n && !yes; i++) {
		jv v = jv_array_get(jv_copy(list), i);
		yes = jv_get_kind(v) == JV_KIND_STRING &&
		    strcmp(jv_string_value(v), s) == 0;
		jv_free(v);
	}
	jv_free(list);
	return yes;
}
