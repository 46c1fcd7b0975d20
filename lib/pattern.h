/*
 * ECMA-262 regular expressions, as JSON Schema's "pattern" means them,
 * matched by Oniguruma with a bound on the work of each match.
 */
#ifndef LLM_PATTERN_H
#define LLM_PATTERN_H

#include <stddef.h>

#define PATTERN_INVALID (-1)   /* not an ECMA-262 pattern we can run */
#define PATTERN_TOO_COSTLY (-2) /* the match hit its work bound */

/* Whether the n bytes at s contain a match of the pattern (plen bytes at
 * p, UTF-8): 1 or 0, else PATTERN_INVALID or PATTERN_TOO_COSTLY. A
 * compiled pattern is kept for the life of the process (and freed at
 * exit), so a pattern is compiled once however often it is used. */
int pattern_search(const char *p, size_t plen, const char *s, size_t n);

#endif
