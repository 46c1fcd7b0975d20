/* A request's inputs from the command line; see request.h. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "jsonscan.h"
#include "request.h"
#include "schema.h"

void
check_text(const struct buf *b, const char *name)
{
	const char *nul;
	size_t at;

	if (b->len > TEXT_INPUT_MAX)
		die(EXIT_INPUT, "%s: larger than %zu bytes", name,
		    TEXT_INPUT_MAX);
	if ((nul = memchr(b->data, '\0', b->len)) != NULL)
		die(EXIT_INPUT, "%s: not text: a NUL byte at byte %zu", name,
		    (size_t)(nul - b->data));
	if (utf8_check(b->data, b->len, &at) != 0)
		die(EXIT_INPUT, "%s: not UTF-8 text at byte %zu", name, at);
}

void
frame_file(struct buf *out, const char *name, const char *text, size_t len)
{
	size_t i, run = 0, longest = 0;

	for (i = 0; i < len; i++) {
		run = text[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	longest = longest < 3 ? 3 : longest + 1;
	buf_append_str(out, "File: ");
	buf_append_str(out, name);
	buf_append_str(out, "\n");
	for (i = 0; i < longest; i++)
		buf_append(out, "`", 1);
	buf_append(out, "\n", 1);
	buf_append(out, text, len);
	if (len > 0 && text[len - 1] != '\n')
		buf_append(out, "\n", 1);
	for (i = 0; i < longest; i++)
		buf_append(out, "`", 1);
}

/* The fields llm-prompt and llm-request set from their own options. */
static const struct {
	const char *field, *by;
} owned[] = {
	{"model", "-m"},
	{"messages", "the prompt and -c"},
	{"tools", "-w"},
	{"tool_choice", "-C"},
	{"stream", "llm-request -S"},
};

jv
request_set_option(jv request, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t i, n;
	jv name, value;

	n = eq != NULL ? (size_t)(eq - arg) : 0;
	if (n == 0 || n > 64 || strspn(arg, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
		die(EXIT_USAGE, "-o %s: not NAME=VALUE", arg);
	for (i = 0; i < sizeof owned / sizeof owned[0]; i++)
		if (strlen(owned[i].field) == n &&
		    strncmp(arg, owned[i].field, n) == 0)
			die(EXIT_USAGE, "-o %s: set by %s, not by -o",
			    owned[i].field, owned[i].by);
	name = jv_string_sized(arg, (int)n);
	value = json_parse(eq + 1, strlen(eq + 1));
	if (!jv_is_valid(value)) {
		jv_free(value);
		value = jv_string(eq + 1);
	}
	return jv_object_set(request, name, value);
}

/* The schema's name for the API: the file's name without ".json" when
 * it is ^[A-Za-z0-9_-]{1,64}$, else "reply". */
static jv
schema_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".json") == 0)
		n -= 5;
	if (n == 0 || n > 64 || strspn(base, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") < n)
		return jv_string("reply");
	return jv_string_sized(base, (int)n);
}

jv
response_format_option(const char *arg)
{
	jv schema, name;

	if (arg[strspn(arg, " \t\r\n")] == '{') {
		schema = json_parse(arg, strlen(arg));
		if (!jv_is_valid(schema)) {
			char *msg = json_invalid_message(schema);

			warnx("--schema: not a JSON document: %s", msg);
			free(msg);
			exit(EXIT_USAGE);
		}
		name = jv_string("reply");
	} else {
		schema = json_read_doc(arg, "--schema");
		if (jv_get_kind(schema) != JV_KIND_OBJECT) {
			const char *kind = json_kind_name(schema);

			jv_free(schema);
			die(EXIT_INPUT, "--schema (%s): %s, not an object", arg,
			    kind);
		}
		name = schema_name(arg);
	}
	return JV_OBJECT(jv_string("type"), jv_string("json_schema"),
	    jv_string("json_schema"), JV_OBJECT(jv_string("name"), name,
	    jv_string("schema"), schema, jv_string("strict"), jv_true()));
}

jv
request_reply_schema(jv request)
{
	jv format = json_get(request, "response_format");
	jv spec = json_get(format, "json_schema");
	jv schema = json_get(spec, "schema");
	const char *type = json_get_str(format, "type");

	if (type == NULL || strcmp(type, "json_schema") != 0 ||
	    (jv_get_kind(schema) != JV_KIND_OBJECT &&
	    jv_get_kind(schema) != JV_KIND_TRUE &&
	    jv_get_kind(schema) != JV_KIND_FALSE)) {
		jv_free(schema);
		schema = jv_invalid();
	}
	jv_free(spec);
	jv_free(format);
	return schema;
}

jv
reply_schema_check(jv schema, const char *s, size_t n)
{
	jv reply = json_parse(s, n), out;

	if (!jv_is_valid(reply)) {
		char *msg = json_invalid_message(reply);
		out = JV_ARRAY(jv_string_fmt("/: not one JSON value: %s", msg));
		free(msg);
		return out;
	}
	out = schema_check(schema, reply);
	jv_free(reply);
	return out;
}
