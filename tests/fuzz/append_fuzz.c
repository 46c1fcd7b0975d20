/*
 * Fuzz harness for tool-append's matching of tool calls to results
 * (results_in_call_order in lib/toolcall.c): the input is a calls array
 * and a results array, JSON, separated by the first NUL byte or newline.
 * When it matches, every call has exactly its own result, in call order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "toolcall.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
/* libjq 1.6 loses a string on "Expected separator between values" (its
 * jv_parse.c value() drops its argument): parse with leak checks off. */
#define LEAKS_OFF() __lsan_disable()
#define LEAKS_ON() __lsan_enable()
#else
#define LEAKS_OFF() ((void)0)
#define LEAKS_ON() ((void)0)
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static jv
parse_copy(const uint8_t *p, size_t n)
{
	char *text = xmalloc(n + 1);
	jv v;

	memcpy(text, p, n);
	text[n] = '\0';
	LEAKS_OFF();
	v = json_parse(text, n);
	LEAKS_ON();
	free(text);
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *cut = memchr(data, '\0', size);
	jv calls, results, ordered;
	int i, n;

	if (cut == NULL)
		cut = memchr(data, '\n', size);
	if (cut == NULL)
		return 0;
	calls = parse_copy(data, (size_t)(cut - data));
	results = parse_copy(cut + 1, size - (size_t)(cut - data) - 1);
	if (jv_is_valid(calls) && jv_is_valid(results)) {
		ordered = results_in_call_order(calls, results);
		if (jv_is_valid(ordered)) {
			n = jv_array_length(jv_copy(ordered));
			if (n != jv_array_length(jv_copy(calls)))
				abort();
			for (i = 0; i < n; i++) {
				jv c = jv_array_get(jv_copy(calls), i);
				jv r = jv_array_get(jv_copy(ordered), i);
				const char *a = json_get_str(c, "id");
				const char *b = json_get_str(r, "tool_call_id");
				if (a == NULL || b == NULL || strcmp(a, b) != 0)
					abort();
				jv_free(c);
				jv_free(r);
			}
		}
		jv_free(ordered);
	}
	jv_free(calls);
	jv_free(results);
	return 0;
}
