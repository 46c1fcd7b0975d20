/*
 * Checking tool-call arguments against a tool's "parameters" JSON Schema.
 */
#ifndef LLM_SCHEMA_H
#define LLM_SCHEMA_H

#include <jv.h>

/* Check instance against schema (both borrowed). Returns a jv array of
 * strings, one per violation, each "PATH: what is wrong" where PATH is a
 * JSON Pointer ("/units", "/items/2/name", "/" for the root). An empty
 * array means valid. Unknown keywords are ignored; a malformed keyword
 * that applies to the value is reported as "PATH: the schema's KEYWORD
 * is invalid". Nesting and total work are bounded, so no schema or
 * instance can crash or hang it. */
jv schema_check(jv schema, jv instance);

#endif
