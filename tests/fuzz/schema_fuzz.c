/*
 * libFuzzer harness for lib/schema.c: the input is a schema and an
 * instance, both JSON, separated by the first NUL byte (or, when there
 * is none, the first newline). When both parse, schema_check must return
 * an array of strings "PATH: ...", PATH starting with "/".
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -D_DEFAULT_SOURCE \
 *	    -D_GNU_SOURCE -Ilib tests/fuzz/schema_fuzz.c lib/schema.c \
 *	    lib/pattern.c lib/common.c lib/json.c -ljq -lonig -o schema_fuzz
 *	./schema_fuzz corpus/   (seed it with schema NUL arguments files)
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
	const uint8_t *cut = memchr(data, '\0', size);
	jv schema, instance, result, msg;
	int i, n;

	if (cut == NULL)
		cut = memchr(data, '\n', size);
	if (cut == NULL)
		return 0;
	schema = parse_copy(data, (size_t)(cut - data));
	instance = parse_copy(cut + 1, size - (size_t)(cut - data) - 1);
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
