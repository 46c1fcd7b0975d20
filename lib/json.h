/*
 * JSON documents in and out with libjq's jv API (never jq_compile: it
 * costs ~25 ms per process in libjq 1.6).
 */
#ifndef LLM_JSON_H
#define LLM_JSON_H

#include <jv.h>
#include <stddef.h>

/* Largest JSON document the filters read (256 MiB). */
#define JSON_INPUT_MAX ((size_t)256 << 20)

/* Parse len bytes at text (text[len] must be NUL): strict RFC 8259 JSON
 * only (json_scan), whatever libjq would read. Invalid input gives
 * jv_invalid_with_msg with a short message (without the input echoed). */
jv json_parse(const char *text, size_t len);

/* A tool call's arguments (text[len] must be NUL) as an object: strict
 * RFC 8259 JSON (json_scan), no object holding a key twice, an object at
 * the root. Else an invalid value with a message for the model saying
 * what is wrong and where. */
jv json_parse_arguments(const char *text, size_t len);

/* Read one JSON document from path, or stdin when path is NULL or "-".
 * On any failure print "prog: WHAT: why" and exit 3. */
jv json_read_doc(const char *path, const char *what);

/* Write v (consumed) to stdout followed by a newline: compact, or
 * indented when stdout is a terminal. */
void json_write_stdout(jv v);

/* Serialize v (consumed) compactly into a malloc'd string. */
char *json_dump(jv v);

/* The message of an invalid value (consumed), malloc'd. */
char *json_invalid_message(jv v);

/* o[key] as a new reference; jv_invalid() when o is not an object or
 * key is absent. o is borrowed. */
jv json_get(jv o, const char *key);

/* o[key] when it is a string, else NULL; the pointer lives as long as
 * o does. o is borrowed. */
const char *json_get_str(jv o, const char *key);

/* o[key], or null when o has no such key. o is borrowed. */
jv json_get_or_null(jv o, const char *key);

/* The kind of o[key]: JV_KIND_INVALID when o is not an object or key is
 * absent. o is borrowed. */
jv_kind json_get_kind(jv o, const char *key);

/* Does string s (borrowed) hold a NUL byte, which C strings would cut? */
int json_string_has_nul(jv s);

/* A short printable rendering of v (borrowed) for messages. */
const char *json_kind_name(jv v);
/* Is list (consumed) an array holding the string s? */
int json_array_has_string(jv list, const char *s);

#endif
