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
#include "jsonscan.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
/* libjq 1.6 loses a string on "Expected separator between values". */
#define LEAKS_OFF() __lsan_disable()
#define LEAKS_ON() __lsan_enable()
#else
#define LEAKS_OFF() ((void)0)
#define LEAKS_ON() ((void)0)
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
