/*
 * Fuzz harness for lib/toolcall.c as tool-extract and tool-append use it
 * on a response from a remote server: finding the assistant message,
 * normalizing its tool calls (ids, arguments, legacy function_call) and
 * building the message that goes back. The calls must come out in the
 * OpenAI shape with unique ids (none holding a NUL byte), whatever the
 * input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "fuzz.h"
#include "toolcall.h"

/* Every call {id, type:"function", function:{name, arguments}} with a
 * string id unique among them and arguments a string. */
static void
check_shape(jv calls)
{
	int i, j, n = jv_array_length(jv_copy(calls));

	for (i = 0; i < n; i++) {
		jv c = jv_array_get(jv_copy(calls), i);
		jv fn = json_get(c, "function");
		const char *id = json_get_str(c, "id");
		jv whole = json_get(c, "id");

		if (id == NULL || *id == '\0' || json_string_has_nul(whole) ||
		    json_get_str(fn, "name") == NULL ||
		    json_get_str(fn, "arguments") == NULL)
			abort();
		/* Compared whole, as jv strings, NUL bytes and all. */
		for (j = 0; j < i; j++) {
			jv d = jv_array_get(jv_copy(calls), j);
			if (jv_equal(json_get(d, "id"), jv_copy(whole)))
				abort();
			jv_free(d);
		}
		jv_free(whole);
		jv_free(fn);
		jv_free(c);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jv response = parse_copy(data, size), message, calls;

	if (!jv_is_valid(response)) {
		jv_free(response);
		return 0;
	}
	message = response_message(response);
	if (jv_is_valid(message)) {
		calls = normalize_tool_calls(response, message);
		if (jv_is_valid(calls)) {
			check_shape(calls);
			jv_free(assistant_message_for_request(message,
			    jv_copy(calls)));
		}
		jv_free(calls);
	}
	jv_free(message);
	jv_free(response);
	return 0;
}
