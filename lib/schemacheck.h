/*
 * Inside the JSON Schema checker (lib/schema*.c): the state of one
 * check and what every keyword check shares. Not for the programs: they
 * call schema_check (schema.h).
 *
 * Ownership, as in libjq: schema, inst and the errs a function is given
 * are borrowed; a jv argument said to be consumed is freed by the
 * callee; *ev, where a function takes it, is the object of the keys
 * evaluated so far (unevaluatedProperties, unevaluatedItems), updated
 * in place when c->track is set, or NULL.
 */
#ifndef LLM_SCHEMACHECK_H
#define LLM_SCHEMACHECK_H

#include <jv.h>
#include <stddef.h>

#include "common.h"

#define MAX_DEPTH 64           /* nested schema applications */
#define MAX_STEPS 100000L      /* units of work per check */
#define MAX_VIOLATIONS 50      /* violations listed */
#define MAX_SHOWN 60           /* bytes of a value quoted in a message */
#define MAX_LISTED 10          /* enum values or property names listed */
#define MAX_PATTERN_TIME 1.0   /* seconds of pattern matching per check */

struct check {
	jv index;        /* URI -> {s: schema, b: its base URI, d: dynamic} */
	jv base;         /* base URI of the schema being applied */
	jv scope;        /* dynamic scope: base URIs entered, outermost first */
	jv out;          /* violations found so far */
	struct buf path; /* JSON Pointer of the value being checked */
	int depth;
	long steps;      /* work left; below 0 the check was abandoned */
	int nerr;        /* violations found, listed or not */
	int too_many;    /* violations were left out */
	int draft7;      /* draft 7 (or older) rules */
	int track;       /* unevaluated* present: record what is evaluated */
	double pattern_deadline; /* when pattern matching must stop */
};

/* Every keyword of schema against inst (lib/schema.c). */
void check_value(struct check *c, jv schema, jv inst, jv *ev);

/* A violation at the current path: "PATH: " and the message. */
void violation(struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "the schema's KW is invalid". */
void invalid_keyword(struct check *c, const char *kw);
/* Spend n units of work; false once the budget is exhausted. */
int spend(struct check *c, long n);
/* Append "/key" (n bytes), escaped as JSON Pointer, to the path;
 * returns the old length for path_pop. */
size_t path_push(struct check *c, const char *key, size_t n);
void path_pop(struct check *c, size_t len);
/* s (a string, consumed) cut to max bytes and "..." at a character
 * boundary when it is longer. */
jv shorten(jv s, int max);
/* v (consumed) as short compact JSON for a message. */
jv shown(jv v);
/* The first MAX_LISTED elements of list (consumed) joined by ", ", as
 * JSON or, when raw, strings as they are. */
jv join_list(jv list, int raw);
/* Whether v (borrowed) is a schema: an object, true or false. */
int is_schema(jv v);
/* Record key (consumed) as evaluated in *ev, when something asks. */
void mark(struct check *c, jv *ev, jv key);
/* Item i's key in *ev. */
jv index_key(int i);
/* The first violation of errs without the path of the value being
 * checked, which the caller's message names. */
jv first_reason(struct check *c, jv errs);
/* Check inst against sub into a list of its own, which is returned;
 * when it is empty, what sub evaluated is added to *ev. */
jv check_apart(struct check *c, jv sub, jv inst, jv *ev);
/* Whether inst matches sub, keeping what it evaluated in *ev when so. */
int matches(struct check *c, jv sub, jv inst, jv *ev);

#endif
