/*
 * Fuzz harness for lib/textcalls.c: the input is the text of a reply, as
 * a local model wrote it.  Whatever it holds, the calls read from it
 * must be well shaped ({type:"function", function:{name, arguments}},
 * a non-empty name without NUL, arguments a string), the text around
 * them no longer than the input (each byte of invalid UTF-8 becoming
 * U+FFFD, three bytes), and the response rewritten with them
 * must give tool-extract's calls without an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "fuzz.h"
#include "textcalls.h"
#include "toolcall.h"

static void
check_calls(jv calls, jv rest, size_t size)
{
	int i, n = jv_array_length(jv_copy(calls));

	if (n == 0)
		abort();
	for (i = 0; i < n; i++) {
		jv c = jv_array_get(jv_copy(calls), i);
		jv fn = json_get(c, "function");
		jv name = json_get(fn, "name");
		const char *type = json_get_str(c, "type");

		if (type == NULL || strcmp(type, "function") != 0 ||
		    jv_get_kind(name) != JV_KIND_STRING ||
		    jv_string_length_bytes(jv_copy(name)) == 0 ||
		    json_string_has_nul(name) ||
		    json_get_str(fn, "arguments") == NULL)
			abort();
		jv_free(name);
		jv_free(fn);
		jv_free(c);
	}
	if (jv_get_kind(rest) == JV_KIND_STRING) {
		if ((size_t)jv_string_length_bytes(jv_copy(rest)) > 3 * size)
			abort();
	} else if (jv_get_kind(rest) != JV_KIND_NULL) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jv rest = jv_invalid(), calls, response, message, normal;

	if (size > (1 << 20))
		return 0;
	calls = text_calls_parse((const char *)data, size, &rest);
	if (jv_is_valid(calls))
		check_calls(calls, rest, size);
	else if (jv_is_valid(rest))
		abort();
	jv_free(calls);
	jv_free(rest);

	response = JV_OBJECT(jv_string("choices"), JV_ARRAY(JV_OBJECT(
	    jv_string("message"), JV_OBJECT(jv_string("role"),
	    jv_string("assistant"), jv_string("content"),
	    jv_string_sized((const char *)data, (int)size)))));
	response = text_calls_response(response);
	message = response_message(response);
	if (!jv_is_valid(message))
		abort();
	normal = normalize_tool_calls(response, message);
	if (!jv_is_valid(normal))
		abort();
	jv_free(normal);
	jv_free(message);
	jv_free(response);
	return 0;
}
