/*
 * libFuzzer harness for lib/schema.c: the input is a schema and an
 * instance, both JSON, separated by the first NUL byte (or, when there
 * is none, the first newline). When both parse, schema_check must return
 * an array of strings "PATH: ...", PATH starting with "/".
 * make fuzz-build builds it (build/fuzz-libfuzzer/fuzz/schema); seed it
 * with files of a schema, a NUL and arguments.
 *
 * libjq 1.6 leaks a string when a document has two values without a
 * separator (jv_parse.c value() drops its argument on "Expected separator
 * between values"), so parsing runs with leak checking off.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "fuzz.h"
#include "schema.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jv schema, instance, result, msg;
	int i, n;

	if (parse_pair(data, size, &schema, &instance) < 0)
		return 0;
	if (jv_is_valid(schema) && jv_is_valid(instance)) {
		result = schema_check(schema, instance);
		if (jv_get_kind(result) != JV_KIND_ARRAY)
			abort();
		n = jv_array_length(jv_copy(result));
		for (i = 0; i < n; i++) {
			msg = jv_array_get(jv_copy(result), i);
			/* A key in the path may hold a NUL: use lengths. */
			if (jv_get_kind(msg) != JV_KIND_STRING ||
			    jv_string_value(msg)[0] != '/' ||
			    memmem(jv_string_value(msg),
			    (size_t)jv_string_length_bytes(jv_copy(msg)), ": ",
			    2) == NULL)
				abort();
			jv_free(msg);
		}
		jv_free(result);
	}
	jv_free(schema);
	jv_free(instance);
	return 0;
}
