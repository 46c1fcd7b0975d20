/*
 * Fuzz harness for lib/jsonscan.c, the validating scan llm-request runs
 * over a request instead of a parse: whatever it accepts, libjq must
 * accept too (the scan is the stricter of the two), and the keys it
 * reports must lie inside the text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "fuzz.h"
#include "jsonscan.h"


struct span {
	const char *start, *end;
};

static void
on_key(void *ctx, const char *key, size_t keylen, char kind,
    const char *value, size_t vlen)
{
	struct span *s = ctx;

	if (key < s->start || key + keylen > s->end || value < s->start ||
	    value + vlen > s->end || *value != kind)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1);
	struct span span = {text, text + size};
	size_t at;
	jv v;

	memcpy(text, data, size);
	text[size] = '\0';
	if (json_scan(text, size, on_key, &span, &at) == 0) {
		LEAKS_OFF();
		v = json_parse(text, size);
		LEAKS_ON();
		if (!jv_is_valid(v))
			abort();
		jv_free(v);
	} else if (at > size) {
		abort();
	}
	free(text);
	return 0;
}
