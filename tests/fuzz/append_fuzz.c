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
#include "fuzz.h"
#include "toolcall.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jv calls, results, ordered;
	int i, n;

	if (parse_pair(data, size, &calls, &results) < 0)
		return 0;
	if (jv_is_valid(calls) && jv_is_valid(results)) {
		ordered = results_in_call_order(calls, results);
		if (jv_is_valid(ordered)) {
			n = jv_array_length(jv_copy(ordered));
			if (n != jv_array_length(jv_copy(calls)))
				abort();
			for (i = 0; i < n; i++) {
				jv c = jv_array_get(jv_copy(calls), i);
				jv r = jv_array_get(jv_copy(ordered), i);
				jv a = json_get(c, "id");
				jv b = json_get(r, "tool_call_id");
				/* Equal whole, after a NUL byte too. */
				if (jv_get_kind(a) != JV_KIND_STRING ||
				    !jv_equal(jv_copy(a), jv_copy(b)))
					abort();
				jv_free(a);
				jv_free(b);
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
