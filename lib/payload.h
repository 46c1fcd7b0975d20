/*
 * The body llm-request sends: the request read, checked (a JSON object
 * with a messages array) and settled: its model (the one asked for, the
 * request's own, $LLM_MODEL, else DEFAULT_MODEL) and, for a stream, the
 * stream fields.
 */
#ifndef LLM_PAYLOAD_H
#define LLM_PAYLOAD_H

#include "common.h"

/* The model of a request that names none, when $LLM_MODEL is unset. */
#define DEFAULT_MODEL "gpt-4.1-mini"

/* Read the request at path (standard input when NULL or "-") into b.
 * Exit 3 when it cannot be read, is larger than JSON_INPUT_MAX or is
 * empty. */
void read_request(const char *path, struct buf *b);

/*
 * The body to send for the request text in b (borrowed, NUL-terminated),
 * as a malloc'd string the caller frees. model (NULL: the request's, or
 * the default) replaces the request's. With *stream set, or "stream":
 * true in the request (which sets *stream), the body asks for a stream
 * with the usage in its last chunk. A large conversation is not parsed:
 * a validating scan finds its keys, and what is missing is written in
 * front of them, the rest byte for byte. Exit 3 on input that is not a
 * JSON object with a messages array.
 */
char *request_payload(const struct buf *b, const char *model, int *stream);

#endif
