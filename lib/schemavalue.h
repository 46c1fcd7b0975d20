/*
 * Inside the JSON Schema checker: the keywords of a value's type and
 * content (lib/schemavalue.c). schema and inst are borrowed.
 */
#ifndef LLM_SCHEMAVALUE_H
#define LLM_SCHEMAVALUE_H

#include <jv.h>

#include "schemacheck.h"

/* "type": false when the instance has none of the types listed. */
int check_type(struct check *c, jv schema, jv inst);
/* "const" and "enum". */
void check_enum(struct check *c, jv schema, jv inst);
/* exclusiveMinimum, exclusiveMaximum, minimum, maximum, multipleOf. */
void check_number(struct check *c, jv schema, jv inst);
/* A count keyword (minLength, maxItems, ...) against n:
 * "must VERB at least N ONE|MANY TAIL". */
void check_count(struct check *c, jv schema, const char *kw, double n,
    const char *verb, const char *one, const char *many, const char *tail);
/* Whether the string str matches the pattern pat (the value of keyword
 * kw): 1, 0, or below 0 (PATTERN_INVALID, PATTERN_TOO_COSTLY) after
 * saying why it cannot tell. */
int pattern_ok(struct check *c, jv pat, jv str, const char *kw);
/* minLength, maxLength (in characters), pattern for a string. */
void check_string(struct check *c, jv schema, jv inst);
/* prefixItems, items, additionalItems, minItems, maxItems, uniqueItems,
 * contains, minContains, maxContains for an array. */
void check_array(struct check *c, jv schema, jv inst, jv *ev);

#endif
