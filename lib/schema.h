/*
 * Checking tool-call arguments against a tool's "parameters" JSON Schema.
 */
#ifndef LLM_SCHEMA_H
#define LLM_SCHEMA_H

#include <jv.h>

/* Check instance against schema (both borrowed), JSON Schema draft
 * 2020-12, or draft 7 when the schema's "$schema" names it or an older
 * draft. Returns a jv array of strings, one per violation, each "PATH:
 * what is wrong" where PATH is a JSON Pointer ("/units", "/items/2/name",
 * "/" for the root). An empty array means valid. Unknown keywords are
 * ignored; a malformed keyword that applies to the value is reported as
 * "PATH: the schema's KEYWORD is invalid". Nesting, total work and each
 * pattern match are bounded, so no schema or instance can crash or hang
 * it. Compiled patterns are kept for the next checks. */
jv schema_check(jv schema, jv instance);

#endif
