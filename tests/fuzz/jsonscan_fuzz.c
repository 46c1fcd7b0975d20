/*
 * Fuzz harness for lib/jsonscan.c, the validating scan every filter runs
 * before libjq sees a document, and for json_parse_arguments, which
 * holds a tool call's arguments to it: whatever the scan accepts, libjq
 * must accept too (the scan is the stricter of the two); the keys it
 * reports must lie inside the text; the duplicate check refuses only
 * what the plain scan accepts, at a key, and what it accepts has as many
 * root keys as libjq's object; accepted arguments are an object.
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
	int keys;
};

static void
on_key(void *ctx, const char *key, size_t keylen, char kind,
    const char *value, size_t vlen)
{
	struct span *s = ctx;

	if (key < s->start || key + keylen > s->end || value < s->start ||
	    value + vlen > s->end || *value != kind)
		abort();
	s->keys++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1);
	struct span span = {text, text + size, 0};
	size_t at, uat, keylen = 0;
	int plain, unique;
	jv v, args;

	memcpy(text, data, size);
	text[size] = '\0';
	plain = json_scan(text, size, on_key, &span, &at);
	unique = json_scan_unique(text, size, &uat, &keylen);
	/* A text the scan refuses is refused by the unique scan too: at the
	 * same byte, or earlier for a duplicate key in an object that closed
	 * before the error. */
	if (plain != 0 && (at > size || unique == 0 ||
	    (unique == -1 && uat != at) || (unique == -2 && uat >= at)))
		abort();
	if (unique == -2 && (uat + keylen + 2 > size || text[uat] != '"' ||
	    text[uat + keylen + 1] != '"'))
		abort();
	if (plain == 0) {
		LEAKS_OFF();
		v = size <= 0x7fffffff ? jv_parse_sized(text, (int)size) :
		    jv_invalid();
		LEAKS_ON();
		if (!jv_is_valid(v))
			abort();
		if (unique == 0 && jv_get_kind(v) == JV_KIND_OBJECT &&
		    jv_object_length(jv_copy(v)) != span.keys)
			abort();
		jv_free(v);
	}
	LEAKS_OFF();
	args = json_parse_arguments(text, size);
	LEAKS_ON();
	if (jv_is_valid(args) && (unique != 0 ||
	    jv_get_kind(args) != JV_KIND_OBJECT))
		abort();
	jv_free(args);
	free(text);
	return 0;
}
