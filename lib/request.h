/*
 * A request's inputs from the command line: texts for the user message
 * (files and piped text), -o NAME=VALUE fields, and the JSON Schema a
 * reply is asked to follow, with the check of a reply against it.
 */
#ifndef LLM_REQUEST_H
#define LLM_REQUEST_H

#include <jv.h>
#include <stddef.h>

#include "common.h"

/* Largest text (a file, or piped standard input) put in a message. */
#define TEXT_INPUT_MAX ((size_t)4 << 20)

/* Exit 3 unless b (from name) is text: at most TEXT_INPUT_MAX bytes,
 * no NUL byte, valid UTF-8. */
void check_text(const struct buf *b, const char *name);

/* Append the text of a file called name to out, as it goes in a user
 * message: a line "File: NAME", then the text between fences of
 * backticks longer than any run of backticks in it. */
void frame_file(struct buf *out, const char *name, const char *text,
    size_t len);

/* request (consumed) with the field of one -o NAME=VALUE set: VALUE
 * when it is strict JSON, else the string VALUE. Exit 2 on a bad
 * argument or a field the programs set themselves. */
jv request_set_option(jv request, const char *arg);

/* The response_format asking for a reply that follows the JSON Schema
 * of arg: inline JSON when it starts with "{" (blanks aside), else a
 * file. Exit 2 on bad inline JSON, 3 on a bad file. */
jv response_format_option(const char *arg);

/* The JSON Schema request (borrowed) asks its reply to follow (its
 * response_format's json_schema.schema), or jv_invalid() if none. */
jv request_reply_schema(jv request);

/* The violations of reply text s (n bytes, s[n] NUL) against schema
 * (borrowed): an array of "PATH: what is wrong" strings, empty when
 * the reply is one JSON value that follows it. */
jv reply_schema_check(jv schema, const char *s, size_t n);

#endif
