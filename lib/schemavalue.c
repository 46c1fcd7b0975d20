/*
 * The keywords of JSON Schema for one value's type and content:
 * type, const, enum; those of numbers, of strings (pattern, through
 * lib/pattern.c) and of arrays.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "pattern.h"
#include "schemacheck.h"
#include "schemavalue.h"

static double
absolute(double x)
{
	return x < 0 ? -x : x;
}

/* Whether x has no fractional part (as every double from 2^53 up). */
static int
is_integer(double x)
{
	return isfinite(x) &&
	    (absolute(x) >= 0x1p53 || (double)(long long)x == x);
}

/* A type name with its article ("an object", "null"); NULL when it
 * names no type. */
static const char *
type_words(const char *name)
{
	static const char *const names[] = {
		"null", "boolean", "object", "array", "number", "string",
		"integer"
	};
	static const char *const words[] = {
		"null", "a boolean", "an object", "an array", "a number",
		"a string", "an integer"
	};
	int i;

	for (i = 0; i < 7; i++)
		if (strcmp(name, names[i]) == 0)
			return words[i];
	return NULL;
}

/* "type": false when the instance has none of the types listed. */
int
check_type(struct check *c, jv schema, jv inst)
{
	jv t = json_get(schema, "type"), words = jv_string(""), name, not;
	const char *kind = jv_kind_name(jv_get_kind(inst)), *s;
	int n, i, known, ok = 0;

	if (jv_get_kind(t) == JV_KIND_INVALID) {
		jv_free(words);
		return 1;
	}
	if (jv_get_kind(t) != JV_KIND_ARRAY)
		t = jv_array_append(jv_array(), t);
	known = (n = jv_array_length(jv_copy(t))) > 0;
	for (i = 0; i < n; i++) {
		name = jv_array_get(jv_copy(t), i);
		s = jv_get_kind(name) == JV_KIND_STRING ?
		    jv_string_value(name) : "";
		known = known && type_words(s) != NULL;
		ok = ok || strcmp(s, kind) == 0 || (strcmp(s, "integer") == 0 &&
		    jv_get_kind(inst) == JV_KIND_NUMBER &&
		    is_integer(jv_number_value(inst)));
		if (known)
			words = jv_string_append_str(jv_string_append_str(words,
			    i == 0 ? "" : i == n - 1 ? " or " : ", "),
			    type_words(s));
		jv_free(name);
	}
	jv_free(t);
	if (!known) {
		invalid_keyword(c, "type");
	} else if (!ok) {
		not = jv_get_kind(inst) == JV_KIND_NUMBER &&
		    !is_integer(jv_number_value(inst)) ? shown(jv_copy(inst)) :
		    jv_string(type_words(kind) ? type_words(kind) : kind);
		violation(c, "must be %s, not %s", jv_string_value(words),
		    jv_string_value(not));
		jv_free(not);
	}
	jv_free(words);
	return known && ok;
}

/* "const" and "enum". */
void
check_enum(struct check *c, jv schema, jv inst)
{
	jv cst = json_get(schema, "const"), e = json_get(schema, "enum"), s;
	int n, i, found = 0;

	if (jv_is_valid(cst) && !jv_equal(jv_copy(cst), jv_copy(inst))) {
		s = shown(cst);
		violation(c, "must be %s", jv_string_value(s));
		jv_free(s);
	} else {
		jv_free(cst);
	}
	if (jv_get_kind(e) == JV_KIND_INVALID)
		return;
	if (jv_get_kind(e) != JV_KIND_ARRAY ||
	    (n = jv_array_length(jv_copy(e))) == 0) {
		invalid_keyword(c, "enum");
		jv_free(e);
		return;
	}
	spend(c, n);
	for (i = 0; i < n && !found; i++)
		found = jv_equal(jv_array_get(jv_copy(e), i), jv_copy(inst));
	if (found) {
		jv_free(e);
		return;
	}
	s = join_list(e, 0);
	violation(c, n == 1 ? "must be %s" : "must be one of %s",
	    jv_string_value(s));
	jv_free(s);
}

/* Whether x is an integer multiple of m, allowing for rounding. */
static int
is_multiple(double x, double m)
{
	double q = x / m, near, tolerance;

	if (!isfinite(x) || !isfinite(q))
		return 0;
	if (absolute(q) >= 0x1p53)
		return 1;
	near = (double)(long long)(q + (q < 0 ? -0.5 : 0.5));
	tolerance = absolute(q) * 1e-15;
	return absolute(q - near) <= (tolerance > 1e-9 ? tolerance : 1e-9);
}

/* exclusiveMinimum, exclusiveMaximum, minimum, maximum, multipleOf for
 * a number. */
void
check_number(struct check *c, jv schema, jv inst)
{
	static const char *const kws[] = {
		"exclusiveMinimum", "exclusiveMaximum", "minimum", "maximum",
		"multipleOf"
	};
	static const char *const words[] = {
		"greater than", "less than", "at least", "at most",
		"a multiple of"
	};
	int excl[2] = {0, 0}, i, op, ok;
	double x = jv_number_value(inst), lim;
	jv b, s;

	for (i = 0; i < 5; i++) {
		b = json_get(schema, kws[i]);
		if (i < 2 && (jv_get_kind(b) == JV_KIND_TRUE ||
		    jv_get_kind(b) == JV_KIND_FALSE)) {	/* draft 4 */
			excl[i] = jv_get_kind(b) == JV_KIND_TRUE;
			continue;
		}
		if (jv_get_kind(b) == JV_KIND_INVALID)
			continue;
		lim = jv_get_kind(b) == JV_KIND_NUMBER ? jv_number_value(b) :
		    NAN;
		if (isnan(lim) || (i == 4 && !(lim > 0))) {
			invalid_keyword(c, kws[i]);
		} else {
			op = i >= 2 && i < 4 && excl[i - 2] ? i - 2 : i;
			ok = op == 0 ? x > lim : op == 1 ? x < lim :
			    op == 2 ? x >= lim : op == 3 ? x <= lim :
			    is_multiple(x, lim);
			if (!ok) {
				s = shown(jv_copy(b));
				violation(c, "must be %s %s", words[op],
				    jv_string_value(s));
				jv_free(s);
			}
		}
		jv_free(b);
	}
}

/* A count keyword (minLength, maxItems, ...) against n:
 * "must VERB at least N ONE|MANY TAIL". */
void
check_count(struct check *c, jv schema, const char *kw, double n,
    const char *verb, const char *one, const char *many, const char *tail)
{
	jv b = json_get(schema, kw);
	int is_min = kw[1] == 'i';
	double lim = jv_get_kind(b) == JV_KIND_NUMBER ? jv_number_value(b) :
	    -1;

	if (jv_get_kind(b) == JV_KIND_INVALID)
		return;
	if (!is_integer(lim) || lim < 0)
		invalid_keyword(c, kw);
	else if (is_min ? n < lim : n > lim)
		violation(c, "must %s at %s %.17g %s%s", verb,
		    is_min ? "least" : "most", lim, lim == 1 ? one : many,
		    tail);
	jv_free(b);
}

/* A string's pattern check: 1 match, 0 no match, else after saying why. */
int
pattern_ok(struct check *c, jv pat, jv str, const char *kw)
{
	int r;
	jv s;

	if (!spend(c, 1 + jv_string_length_bytes(jv_copy(str)) / 1000))
		return 1;
	if (c->pattern_deadline == 0)
		c->pattern_deadline = now_seconds() + MAX_PATTERN_TIME;
	else if (now_seconds() > c->pattern_deadline)
		return c->steps = -1, 1;	/* many costly matches */
	r = pattern_search(jv_string_value(pat),
	    (size_t)jv_string_length_bytes(jv_copy(pat)), jv_string_value(str),
	    (size_t)jv_string_length_bytes(jv_copy(str)));
	if (r == PATTERN_INVALID) {
		invalid_keyword(c, kw);
	} else if (r == PATTERN_TOO_COSTLY) {
		s = shorten(jv_copy(pat), 200);
		violation(c, "is too expensive to match against the pattern %s "
		    "(the match was stopped); send a shorter or simpler value",
		    jv_string_value(s));
		jv_free(s);
	}
	return r;
}

/* minLength, maxLength (in characters), pattern for a string. */
void
check_string(struct check *c, jv schema, jv inst)
{
	jv pat = json_get(schema, "pattern"), s;
	const char *p = jv_string_value(inst);
	int n = jv_string_length_bytes(jv_copy(inst)), i;
	double chars = 0;

	for (i = 0; i < n; i++)
		chars += ((unsigned char)p[i] & 0xC0) != 0x80;
	check_count(c, schema, "minLength", chars, "be", "character",
	    "characters", " long");
	check_count(c, schema, "maxLength", chars, "be", "character",
	    "characters", " long");
	if (jv_get_kind(pat) != JV_KIND_INVALID &&
	    jv_get_kind(pat) != JV_KIND_STRING) {
		invalid_keyword(c, "pattern");
	} else if (jv_get_kind(pat) == JV_KIND_STRING &&
	    pattern_ok(c, pat, inst, "pattern") == 0) {
		s = shorten(jv_copy(pat), 200);
		violation(c, "must match the pattern %s", jv_string_value(s));
		jv_free(s);
	}
	jv_free(pat);
}

/* A count keyword's limit: -1 when absent, -2 (after saying so) when it
 * is not a non-negative integer. */
static double
count_limit(struct check *c, jv schema, const char *kw)
{
	jv b = json_get(schema, kw);
	double lim = jv_get_kind(b) == JV_KIND_NUMBER ? jv_number_value(b) :
	    -2;

	if (jv_get_kind(b) == JV_KIND_INVALID)
		lim = -1;
	else if (!is_integer(lim) || lim < 0)
		invalid_keyword(c, kw), lim = -2;
	jv_free(b);
	return lim;
}

/* contains, minContains, maxContains. */
static void
check_contains(struct check *c, jv schema, jv inst, jv *ev)
{
	jv sub = json_get(schema, "contains"), item;
	int n = jv_array_length(jv_copy(inst)), i, found = 0;
	double lo = 1, hi = -1;

	if (jv_get_kind(sub) == JV_KIND_INVALID)
		return;
	if (!is_schema(sub)) {
		invalid_keyword(c, "contains");
		jv_free(sub);
		return;
	}
	if (!c->draft7) {
		if ((lo = count_limit(c, schema, "minContains")) == -1)
			lo = 1;
		hi = count_limit(c, schema, "maxContains");
	}
	for (i = 0; i < n && lo != -2 && hi != -2; i++) {
		item = jv_array_get(jv_copy(inst), i);
		if (matches(c, sub, item, NULL)) {
			found++;
			mark(c, ev, index_key(i));
		}
		jv_free(item);
	}
	if (lo >= 0 && found < lo)
		violation(c, "must have at least %.17g item%s matching the "
		    "\"contains\" schema (%d %s)", lo, lo == 1 ? "" : "s", found,
		    found == 1 ? "does" : "do");
	if (hi >= 0 && found > hi)
		violation(c, "must have at most %.17g item%s matching the "
		    "\"contains\" schema (%d do)", hi, hi == 1 ? "" : "s", found);
	jv_free(sub);
}

/* prefixItems, items, additionalItems, minItems, maxItems, uniqueItems,
 * contains for an array. */
void
check_array(struct check *c, jv schema, jv inst, jv *ev)
{
	jv prefix = json_get(schema, "prefixItems");
	jv rest = json_get(schema, "items");
	jv uniq = json_get(schema, "uniqueItems"), sub, item;
	int n = jv_array_length(jv_copy(inst)), np = 0, i, j;
	size_t at;
	char index[16];

	if (jv_get_kind(rest) == JV_KIND_ARRAY) {	/* before 2020-12 */
		jv_free(prefix);
		prefix = rest;
		rest = json_get(schema, "additionalItems");
	}
	if (jv_get_kind(prefix) == JV_KIND_ARRAY)
		np = jv_array_length(jv_copy(prefix));
	else if (jv_get_kind(prefix) != JV_KIND_INVALID)
		invalid_keyword(c, "prefixItems");
	if (jv_get_kind(rest) != JV_KIND_INVALID && !is_schema(rest)) {
		invalid_keyword(c, "items");
		jv_free(rest);
		rest = jv_invalid();
	}
	if (jv_get_kind(uniq) != JV_KIND_INVALID &&
	    jv_get_kind(uniq) != JV_KIND_TRUE &&
	    jv_get_kind(uniq) != JV_KIND_FALSE)
		invalid_keyword(c, "uniqueItems");
	check_count(c, schema, "minItems", n, "have", "item", "items", "");
	check_count(c, schema, "maxItems", n, "have", "item", "items", "");
	for (i = 0; i < n && (i < np || jv_is_valid(rest)); i++) {
		sub = i < np ? jv_array_get(jv_copy(prefix), i) : jv_copy(rest);
		item = jv_array_get(jv_copy(inst), i);
		snprintf(index, sizeof index, "%d", i);
		at = path_push(c, index, strlen(index));
		check_value(c, sub, item, NULL);
		path_pop(c, at);
		mark(c, ev, index_key(i));
		jv_free(sub);
		jv_free(item);
	}
	for (i = 0; jv_get_kind(uniq) == JV_KIND_TRUE && i < n; i++)
		for (j = i + 1; j < n && spend(c, 1); j++)
			if (jv_equal(jv_array_get(jv_copy(inst), i),
			    jv_array_get(jv_copy(inst), j))) {
				violation(c, "must not contain duplicates "
				    "(items %d and %d are equal)", i, j);
				i = n;
				break;
			}
	check_contains(c, schema, inst, ev);
	jv_free(prefix);
	jv_free(rest);
	jv_free(uniq);
}
