/*
 * A strict JSON validator that builds nothing: RFC 8259 syntax, valid
 * UTF-8, no control characters in strings, at most JSON_SCAN_DEPTH levels
 * of nesting, exactly one value; on request no key twice in an object. It reports the keys of a root object
 * with where their values lie, so that a program can check or amend a
 * large document without the cost of a parse tree.
 */
#ifndef LLM_JSONSCAN_H
#define LLM_JSONSCAN_H

#include <stddef.h>

#define JSON_SCAN_DEPTH 256

/* Called for each key of a root object: the key as it is written between
 * its quotes (escapes not decoded), and the first byte of its value:
 * '{', '[', '"', 't', 'f', 'n' or a digit or '-'. */
typedef void json_key_fn(void *ctx, const char *key, size_t keylen,
    char value_kind, const char *value, size_t valuelen);

/* 0 when text[0..len) is one valid JSON value, else -1 with *error_at
 * set to the offset of the first bad byte. on_key may be NULL. */
int json_scan(const char *text, size_t len, json_key_fn *on_key, void *ctx,
    size_t *error_at);

/* The same check, and no object (at any depth) holds a key twice, keys
 * compared after their escapes are decoded. 0; -1 as json_scan; or -2
 * with *error_at at the opening quote of the repeated key and *keylen
 * the length of the key as written between its quotes. */
int json_scan_unique(const char *text, size_t len, size_t *error_at,
    size_t *keylen);

/* 0 when s[0..len) is well-formed UTF-8 (no overlong form, no
 * surrogate, at most U+10FFFF), else -1 with *error_at at the first
 * byte of the bad sequence. */
int utf8_check(const char *s, size_t len, size_t *error_at);

#endif
