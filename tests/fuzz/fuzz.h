/*
 * What the fuzz harnesses share. libjq 1.6 loses a string when a
 * document holds two values without a separator (its jv_parse.c value()
 * drops its argument; later versions free it): the harnesses parse with
 * leak checks off, so that only leaks of the code under test count.
 */
#ifndef LLM_FUZZ_H
#define LLM_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define FUZZ_HAVE_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_HAVE_LSAN 1
#endif
#ifdef FUZZ_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#define LEAKS_OFF() __lsan_disable()
#define LEAKS_ON() __lsan_enable()
#else
#define LEAKS_OFF() ((void)0)
#define LEAKS_ON() ((void)0)
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* json_parse of a NUL-terminated copy of the n bytes at p. */
static inline jv
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


/* The two documents of an input, split at its first NUL byte or, when it
 * has none, its first newline: 0, or -1 when it has neither. */
static inline int
parse_pair(const uint8_t *data, size_t size, jv *first, jv *second)
{
	const uint8_t *cut = memchr(data, '\0', size);

	if (cut == NULL)
		cut = memchr(data, '\n', size);
	if (cut == NULL)
		return -1;
	*first = parse_copy(data, (size_t)(cut - data));
	*second = parse_copy(cut + 1, size - (size_t)(cut - data) - 1);
	return 0;
}

#endif
