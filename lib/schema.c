/*
 * Checking tool-call arguments against a tool's JSON Schema.
 *
 * schema_check() applies JSON Schema draft 2020-12, or draft 7 when the
 * schema's "$schema" names draft 7 or older, and returns every violation
 * as a string "PATH: what is wrong", PATH being the JSON Pointer of the
 * offending value ("/" for the root), worded for the model to correct
 * its call. Every assertion and applicator keyword of the two drafts is
 * applied (format and the content keywords are annotations, as both
 * drafts have them by default); unknown keywords are ignored; a
 * malformed keyword is reported (when it applies to the value's type),
 * never skipped. Older forms are accepted too: "items" as an array with
 * "additionalItems", boolean "exclusiveMinimum"/"exclusiveMaximum",
 * OpenAPI 3.0's "nullable".
 *
 * "$ref" and "$dynamicRef" resolve inside the schema: JSON Pointers
 * (through arrays too, percent-encoded or not), "$anchor",
 * "$dynamicAnchor", draft 7's "$id": "#name", and URIs that an "$id"
 * defines; nothing is fetched. "pattern" and "patternProperties" are
 * ECMA-262 (lib/pattern.c). "multipleOf" allows for floating-point
 * rounding.
 *
 * Nested schemas are limited to 64 levels and the work to a fixed
 * budget; each pattern match is bounded (lib/pattern.c), and all of them
 * together to MAX_PATTERN_TIME, so no schema or instance can exhaust the
 * stack or hang the caller.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "pattern.h"
#include "schema.h"

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

static void check_value(struct check *c, jv schema, jv inst, jv *ev);

static void __attribute__((format(printf, 2, 3)))
violation(struct check *c, const char *fmt, ...)
{
	va_list ap;
	jv msg;

	if (c->steps < 0)
		return;
	c->nerr++;
	if (jv_array_length(jv_copy(c->out)) >= MAX_VIOLATIONS) {
		c->too_many = 1;
		return;
	}
	msg = c->path.len ? jv_string_sized(c->path.data, (int)c->path.len) :
	    jv_string("/");
	msg = jv_string_append_str(msg, ": ");
	va_start(ap, fmt);
	msg = jv_string_concat(msg, jv_string_vfmt(fmt, ap));
	va_end(ap);
	c->out = jv_array_append(c->out, msg);
}

static void
invalid_keyword(struct check *c, const char *kw)
{
	violation(c, "the schema's %s is invalid", kw);
}

/* Spend n units of work; false once the budget is exhausted. */
static int
spend(struct check *c, long n)
{
	if (c->steps >= 0)
		c->steps -= n;
	return c->steps >= 0;
}

/* Append "/key", escaped as JSON Pointer, to the path; returns the old
 * length for path_pop. */
static size_t
path_push(struct check *c, const char *key, size_t n)
{
	size_t old = c->path.len, i;

	buf_append(&c->path, "/", 1);
	for (i = 0; i < n; i++) {
		if (key[i] == '~')
			buf_append(&c->path, "~0", 2);
		else if (key[i] == '/')
			buf_append(&c->path, "~1", 2);
		else
			buf_append(&c->path, key + i, 1);
	}
	return old;
}

static void
path_pop(struct check *c, size_t len)
{
	c->path.len = len;
	c->path.data[len] = '\0';
}

/* s (a string, consumed) cut to max bytes and "..." at a character
 * boundary when it is longer. */
static jv
shorten(jv s, int max)
{
	const char *p = jv_string_value(s);
	jv r;

	if (jv_string_length_bytes(jv_copy(s)) <= max)
		return s;
	while (max > 0 && ((unsigned char)p[max] & 0xC0) == 0x80)
		max--;
	r = jv_string_append_str(jv_string_sized(p, max), "...");
	jv_free(s);
	return r;
}

/* v (consumed) as short compact JSON for a message. */
static jv
shown(jv v)
{
	return shorten(jv_dump_string(v, 0), MAX_SHOWN);
}

/* The first MAX_LISTED elements of list (consumed) joined by ", ", as
 * JSON or, when raw, strings as they are. */
static jv
join_list(jv list, int raw)
{
	int n = jv_array_length(jv_copy(list)), i;
	jv s = jv_string(""), v;

	for (i = 0; i < n && i < MAX_LISTED; i++) {
		v = jv_array_get(jv_copy(list), i);
		if (i > 0)
			s = jv_string_append_str(s, ", ");
		if (raw && jv_get_kind(v) == JV_KIND_STRING)
			s = jv_string_concat(s, shorten(v, MAX_SHOWN));
		else
			s = jv_string_concat(s, shown(v));
	}
	if (n > MAX_LISTED)
		s = jv_string_append_str(s, ", ...");
	jv_free(list);
	return s;
}

static int
is_schema(jv v)
{
	jv_kind k = jv_get_kind(v);

	return k == JV_KIND_OBJECT || k == JV_KIND_TRUE || k == JV_KIND_FALSE;
}

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
static int
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
static void
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
static void
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
static void
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

/* Record that inst's property or item key was evaluated, in *ev, when
 * something asks (unevaluatedProperties, unevaluatedItems). */
static void
mark(struct check *c, jv *ev, jv key)
{
	if (c->track && ev != NULL)
		*ev = jv_object_set(*ev, key, jv_true());
	else
		jv_free(key);
}

static jv
index_key(int i)
{
	return jv_string_fmt("%d", i);
}

/* The first violation of errs (borrowed) without the path of the value
 * being checked, which the caller's message names. */
static jv
first_reason(struct check *c, jv errs)
{
	size_t plen = c->path.len ? c->path.len : 1;
	const char *path = c->path.len ? c->path.data : "/", *w;
	jv first = jv_array_get(jv_copy(errs), 0), r;

	if (jv_get_kind(first) != JV_KIND_STRING) {
		jv_free(first);
		return jv_string("");
	}
	w = jv_string_value(first);
	if (strncmp(w, path, plen) == 0 && w[plen] == ':')
		w += plen + 2;
	r = jv_string(w);
	jv_free(first);
	return r;
}

/* Check inst against sub into a list of its own, which is returned;
 * when it is empty, what sub evaluated is added to *ev. */
static jv
check_apart(struct check *c, jv sub, jv inst, jv *ev)
{
	jv saved = c->out, errs;
	int too_many = c->too_many, nerr = c->nerr;

	c->out = jv_array();
	check_value(c, sub, inst, ev);
	errs = c->out;
	c->out = saved;
	c->too_many = too_many;
	c->nerr = nerr;
	return errs;
}

/* Whether inst matches sub, keeping what it evaluated in *ev when so. */
static int
matches(struct check *c, jv sub, jv inst, jv *ev)
{
	return jv_array_length(check_apart(c, sub, inst, ev)) == 0;
}

/* A string's pattern check: 1 match, 0 no match, else after saying why. */
static int
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
static void
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
static void
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

/* Whether o (consumed) is an object whose values are all schemas. */
static int
is_schema_map(jv o)
{
	int ok = jv_get_kind(o) == JV_KIND_OBJECT;

	if (ok)
		jv_object_foreach(o, key, value) {
			ok = ok && is_schema(value);
			jv_free(key);
			jv_free(value);
		}
	jv_free(o);
	return ok;
}

/* The property key (value v) of an object against properties,
 * patternProperties and additionalProperties. */
static void
check_property(struct check *c, jv schema, jv key, jv v, jv *ev)
{
	jv props = json_get(schema, "properties");
	jv pats = json_get(schema, "patternProperties");
	jv extra = json_get(schema, "additionalProperties"), sub, list;
	int matched = 0, r;

	if (jv_get_kind(props) == JV_KIND_OBJECT) {
		sub = jv_object_get(jv_copy(props), jv_copy(key));
		if ((matched = jv_is_valid(sub)))
			check_value(c, sub, v, NULL);
		jv_free(sub);
	}
	if (jv_get_kind(pats) == JV_KIND_OBJECT)
		jv_object_foreach(pats, pat, psub) {
			r = spend(c, 10) ?
			    pattern_ok(c, pat, key, "patternProperties") : 0;
			if (r > 0)
				check_value(c, psub, v, NULL);
			matched = matched || r > 0;
			jv_free(pat);
			jv_free(psub);
		}
	if (!matched && jv_get_kind(extra) == JV_KIND_FALSE) {
		list = jv_get_kind(props) == JV_KIND_OBJECT ?
		    join_list(jv_keys(jv_copy(props)), 1) : jv_string("");
		violation(c, "is not allowed (%s%s)",
		    jv_string_length_bytes(jv_copy(list)) ?
		    "allowed properties: " : "no properties are allowed",
		    jv_string_value(list));
		jv_free(list);
	} else if (!matched && jv_is_valid(extra)) {
		check_value(c, extra, v, NULL);
		matched = 1;
	}
	if (matched)
		mark(c, ev, jv_copy(key));
	jv_free(props);
	jv_free(pats);
	jv_free(extra);
}

/* Whether list (borrowed) is an array of strings. */
static int
is_string_list(jv list)
{
	int ok = jv_get_kind(list) == JV_KIND_ARRAY, i;
	jv v;

	for (i = 0; ok && i < jv_array_length(jv_copy(list)); i++) {
		v = jv_array_get(jv_copy(list), i);
		ok = jv_get_kind(v) == JV_KIND_STRING;
		jv_free(v);
	}
	return ok;
}

/* The properties that list (borrowed, strings) names and inst lacks,
 * each a violation; when is set, "required when WHEN is present". */
static void
check_required(struct check *c, jv list, jv inst, jv when)
{
	int i;
	jv key, s, w;

	for (i = 0; i < jv_array_length(jv_copy(list)); i++) {
		key = jv_array_get(jv_copy(list), i);
		if (jv_object_has(jv_copy(inst), jv_copy(key))) {
			jv_free(key);
			continue;
		}
		s = shown(key);
		if (jv_is_valid(when)) {
			w = shown(jv_copy(when));
			violation(c, "missing property %s (required when %s is "
			    "present)", jv_string_value(s), jv_string_value(w));
			jv_free(w);
		} else {
			violation(c, "missing required property %s",
			    jv_string_value(s));
		}
		jv_free(s);
	}
}

/* dependentRequired and dependentSchemas (2020-12), dependencies
 * (draft 7): what a property present asks of the object. */
static void
check_dependent(struct check *c, jv schema, jv inst, jv *ev)
{
	static const char *const kws[] = {
		"dependentRequired", "dependentSchemas", "dependencies"
	};
	jv deps;
	int i, ok;

	for (i = c->draft7 ? 2 : 0; i < (c->draft7 ? 3 : 2); i++) {
		deps = json_get(schema, kws[i]);
		if (jv_get_kind(deps) == JV_KIND_INVALID)
			continue;
		ok = jv_get_kind(deps) == JV_KIND_OBJECT;
		if (ok)
			jv_object_foreach(deps, key, dep) {
				if (i != 1 && is_string_list(dep)) {
					if (jv_object_has(jv_copy(inst),
					    jv_copy(key)))
						check_required(c, dep, inst, key);
				} else if (i != 0 && is_schema(dep)) {
					if (jv_object_has(jv_copy(inst),
					    jv_copy(key)))
						check_value(c, dep, inst, ev);
				} else {
					ok = 0;
				}
				jv_free(key);
				jv_free(dep);
			}
		if (!ok)
			invalid_keyword(c, kws[i]);
		jv_free(deps);
	}
}

/* propertyNames: every key of inst, as a string, against a schema. */
static void
check_names(struct check *c, jv schema, jv keys)
{
	jv sub = json_get(schema, "propertyNames"), key, errs, why, s;
	int i;

	if (jv_get_kind(sub) == JV_KIND_INVALID)
		return;
	if (!is_schema(sub))
		invalid_keyword(c, "propertyNames");
	for (i = 0; is_schema(sub) && i < jv_array_length(jv_copy(keys));
	    i++) {
		key = jv_array_get(jv_copy(keys), i);
		errs = check_apart(c, sub, key, NULL);
		if (jv_array_length(jv_copy(errs)) > 0) {
			why = shorten(first_reason(c, errs), 150);
			s = shown(key);
			violation(c, "has a property name that is not allowed: "
			    "%s (%s)", jv_string_value(s), jv_string_value(why));
			jv_free(s);
			jv_free(why);
		} else {
			jv_free(key);
		}
		jv_free(errs);
	}
	jv_free(sub);
}

/* properties, patternProperties, additionalProperties, required,
 * minProperties, maxProperties, propertyNames, dependentRequired,
 * dependentSchemas, dependencies for an object. */
static void
check_object(struct check *c, jv schema, jv inst, jv *ev)
{
	static const char *const maps[] = {
		"properties", "patternProperties", "additionalProperties"
	};
	jv req = json_get(schema, "required"), keys, key, v;
	int n = jv_object_length(jv_copy(inst)), i, ok;
	size_t at;

	for (i = 0; i < 3; i++) {
		v = json_get(schema, maps[i]);
		ok = i < 2 ? is_schema_map(jv_copy(v)) : is_schema(v);
		if (jv_get_kind(v) != JV_KIND_INVALID && !ok) {
			invalid_keyword(c, maps[i]);
			jv_free(v);
			jv_free(req);
			return;
		}
		jv_free(v);
	}
	ok = is_string_list(req);
	if (jv_get_kind(req) != JV_KIND_INVALID && !ok)
		invalid_keyword(c, "required");
	check_count(c, schema, "minProperties", n, "have", "property",
	    "properties", "");
	check_count(c, schema, "maxProperties", n, "have", "property",
	    "properties", "");
	if (ok)
		check_required(c, req, inst, jv_invalid());
	keys = jv_keys(jv_copy(inst));
	check_names(c, schema, keys);
	for (i = 0; i < n; i++) {
		key = jv_array_get(jv_copy(keys), i);
		v = jv_object_get(jv_copy(inst), jv_copy(key));
		at = path_push(c, jv_string_value(key),
		    (size_t)jv_string_length_bytes(jv_copy(key)));
		check_property(c, schema, key, v, ev);
		path_pop(c, at);
		jv_free(key);
		jv_free(v);
	}
	check_dependent(c, schema, inst, ev);
	jv_free(keys);
	jv_free(req);
}

/* The list of schemas under kw (allOf, anyOf, oneOf); jv_invalid()
 * when absent or, after saying so, not a non-empty array of schemas. */
static jv
schema_list(struct check *c, jv schema, const char *kw)
{
	jv list = json_get(schema, kw), sub;
	int ok = jv_get_kind(list) == JV_KIND_ARRAY, n = 0, i;

	if (jv_get_kind(list) == JV_KIND_INVALID)
		return list;
	if (ok)
		n = jv_array_length(jv_copy(list));
	for (i = 0; ok && i < n; i++) {
		sub = jv_array_get(jv_copy(list), i);
		ok = is_schema(sub);
		jv_free(sub);
	}
	if (ok && n > 0)
		return list;
	invalid_keyword(c, kw);
	jv_free(list);
	return jv_invalid();
}

/* anyOf and oneOf; the message says why the first few schemas fail.
 * Every schema is tried when what they evaluate matters. */
static void
check_choice(struct check *c, jv schema, jv inst, const char *kw, jv *ev)
{
	jv list = schema_list(c, schema, kw), sub, errs, why, reason;
	int one = kw[0] == 'o', n, i, matched = 0, hit[2] = {0, 0};

	if (!jv_is_valid(list))
		return;
	n = jv_array_length(jv_copy(list));
	why = jv_string("");
	for (i = 0; i < n && (c->track || matched < 1 + one); i++) {
		sub = jv_array_get(jv_copy(list), i);
		errs = check_apart(c, sub, inst, ev);
		if (jv_array_length(jv_copy(errs)) == 0) {
			if (matched < 2)
				hit[matched] = i + 1;
			matched++;
		} else if (i < 4) {
			reason = first_reason(c, errs);
			if (n > 1)
				reason = jv_string_concat(jv_string_fmt("%s%d: ",
				    i ? "; " : "", i + 1), reason);
			why = jv_string_concat(why, shorten(reason, 150));
		} else if (i == 4) {
			why = jv_string_append_str(why, "; ...");
		}
		jv_free(errs);
		jv_free(sub);
	}
	if (matched == 0 && n == 1)
		violation(c, "must match the allowed schema (%s)",
		    jv_string_value(why));
	else if (matched == 0)
		violation(c, "must match %s of the %d allowed schemas (%s)",
		    one ? "exactly one" : "one", n, jv_string_value(why));
	else if (one && matched > 1)
		violation(c, "must match exactly one of the %d allowed "
		    "schemas, but matches schemas %d and %d", n, hit[0],
		    hit[1]);
	jv_free(why);
	jv_free(list);
}

/* if, then, else. */
static void
check_condition(struct check *c, jv schema, jv inst, jv *ev)
{
	jv cond = json_get(schema, "if"), then = json_get(schema, "then");
	jv other = json_get(schema, "else"), branch;
	int i;

	for (i = 0; i < 3; i++) {
		branch = i == 0 ? cond : i == 1 ? then : other;
		if (jv_get_kind(branch) != JV_KIND_INVALID && !is_schema(branch))
			invalid_keyword(c, i == 0 ? "if" : i == 1 ? "then" :
			    "else");
	}
	if (is_schema(cond)) {
		branch = matches(c, cond, inst, ev) ? then : other;
		if (is_schema(branch))
			check_value(c, branch, inst, ev);
	}
	jv_free(cond);
	jv_free(then);
	jv_free(other);
}

/* allOf, anyOf, oneOf, not, if/then/else. */
static void
check_combinators(struct check *c, jv schema, jv inst, jv *ev)
{
	jv all = schema_list(c, schema, "allOf"), not, s;
	int i;

	for (i = 0; jv_is_valid(all) && i < jv_array_length(jv_copy(all));
	    i++) {
		s = jv_array_get(jv_copy(all), i);
		check_value(c, s, inst, ev);
		jv_free(s);
	}
	jv_free(all);
	check_choice(c, schema, inst, "anyOf", ev);
	check_choice(c, schema, inst, "oneOf", ev);
	not = json_get(schema, "not");
	if (jv_get_kind(not) != JV_KIND_INVALID && !is_schema(not)) {
		invalid_keyword(c, "not");
	} else if (jv_is_valid(not) && matches(c, not, inst, NULL)) {
		s = shown(jv_copy(not));
		violation(c, "must not match the schema %s",
		    jv_string_value(s));
		jv_free(s);
	}
	jv_free(not);
	check_condition(c, schema, inst, ev);
}

/* unevaluatedProperties, unevaluatedItems: the members of inst that no
 * other keyword of this schema (or the schemas it applies) evaluated. */
static void
check_unevaluated(struct check *c, jv schema, jv inst, jv *ev)
{
	int is_obj = jv_get_kind(inst) == JV_KIND_OBJECT, n, i;
	jv sub = json_get(schema, is_obj ? "unevaluatedProperties" :
	    "unevaluatedItems"), keys, key, v;
	size_t at;

	if (c->draft7 || jv_get_kind(sub) == JV_KIND_INVALID) {
		jv_free(sub);
		return;
	}
	if (!is_schema(sub)) {
		invalid_keyword(c, is_obj ? "unevaluatedProperties" :
		    "unevaluatedItems");
		jv_free(sub);
		return;
	}
	keys = is_obj ? jv_keys(jv_copy(inst)) : jv_invalid();
	n = is_obj ? jv_array_length(jv_copy(keys)) :
	    jv_array_length(jv_copy(inst));
	for (i = 0; i < n && spend(c, 1); i++) {
		key = is_obj ? jv_array_get(jv_copy(keys), i) : index_key(i);
		if (jv_object_has(jv_copy(*ev), jv_copy(key))) {
			jv_free(key);
			continue;
		}
		v = is_obj ? jv_object_get(jv_copy(inst), jv_copy(key)) :
		    jv_array_get(jv_copy(inst), i);
		at = path_push(c, jv_string_value(key),
		    (size_t)jv_string_length_bytes(jv_copy(key)));
		if (jv_get_kind(sub) == JV_KIND_FALSE)
			violation(c, "is not allowed (the schema describes no "
			    "such %s)", is_obj ? "property" : "item");
		else
			check_value(c, sub, v, NULL);
		path_pop(c, at);
		jv_free(v);
		mark(c, ev, key);
	}
	jv_free(keys);
	jv_free(sub);
}

/* Whether s starts with a URI scheme ("http:", "urn:"). */
static int
has_scheme(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789+-.");

	return n > 0 && isalpha((unsigned char)s[0]) && s[n] == ':';
}

/* The path p (n bytes) without its "." and ".." segments, appended. */
static void
append_path(struct buf *out, const char *p, size_t n)
{
	size_t start = out->len, seg, i = 0;

	while (i < n) {
		seg = i;
		while (i < n && p[i] != '/')
			i++;
		if (i - seg == 1 && p[seg] == '.') {
			/* "." stays where it is */
		} else if (i - seg == 2 && p[seg] == '.' && p[seg + 1] == '.') {
			while (out->len > start && out->data[out->len - 1] == '/')
				out->len--;
			while (out->len > start && out->data[out->len - 1] != '/')
				out->len--;
		} else {
			buf_append(out, p + seg, i - seg);
			if (i < n)
				buf_append(out, "/", 1);
		}
		if (i < n)
			i++;
	}
}

/* The URI reference ref resolved against base (RFC 3986, 5.2). */
static jv
resolve_uri(const char *base, const char *ref)
{
	struct buf out = {0};
	size_t scheme, auth, path, tail;
	const char *slash;
	jv r;

	if (has_scheme(ref) || *base == '\0') {
		buf_append_str(&out, ref);
		goto done;
	}
	tail = strcspn(base, "?#");
	if (*ref == '#' || *ref == '\0') {
		buf_append(&out, base, strcspn(base, "#"));
		buf_append_str(&out, ref);
		goto done;
	}
	scheme = has_scheme(base) ? (size_t)(strchr(base, ':') - base) + 1 : 0;
	auth = scheme;
	if (strncmp(base + scheme, "//", 2) == 0)
		auth = scheme + 2 + strcspn(base + scheme + 2, "/?#");
	if (strncmp(ref, "//", 2) == 0) {
		buf_append(&out, base, scheme);
		buf_append_str(&out, ref);
	} else if (*ref == '?') {
		buf_append(&out, base, tail);
		buf_append_str(&out, ref);
	} else if (*ref == '/') {
		buf_append(&out, base, auth);
		path = strcspn(ref, "?#");
		append_path(&out, ref, path);
		buf_append_str(&out, ref + path);
	} else {
		buf_append(&out, base, auth);
		path = out.len;
		for (slash = base + tail; slash > base + auth && slash[-1] != '/';)
			slash--;
		if (slash == base + auth && auth > scheme)
			buf_append(&out, "/", 1);
		buf_append(&out, base + auth, (size_t)(slash - base) - auth);
		buf_append_str(&out, ref);
		tail = strcspn(out.data + path, "?#");
		r = jv_string_sized(out.data + path, (int)(out.len - path));
		out.len = path;
		append_path(&out, jv_string_value(r), tail);
		buf_append_str(&out, jv_string_value(r) + tail);
		jv_free(r);
	}
done:
	r = jv_string_sized(out.data ? out.data : "", (int)out.len);
	buf_free(&out);
	return r;
}

/* uri (consumed) without its fragment. */
static jv
without_fragment(jv uri)
{
	const char *s = jv_string_value(uri);
	jv r = jv_string_sized(s, (int)strcspn(s, "#"));

	jv_free(uri);
	return r;
}

/* schema's base URI: base, or its "$id" resolved against base. */
static jv
schema_base(struct check *c, jv schema, jv base)
{
	jv id = json_get(schema, "$id"), r;

	if (jv_get_kind(id) != JV_KIND_STRING ||
	    (c->draft7 && (jv_string_value(id)[0] == '#' ||
	    jv_object_has(jv_copy(schema), jv_string("$ref"))))) {
		jv_free(id);
		return base;
	}
	r = without_fragment(resolve_uri(jv_string_value(base),
	    jv_string_value(id)));
	jv_free(id);
	jv_free(base);
	return r;
}

static void
index_add(struct check *c, jv key, jv schema, jv base, int dynamic)
{
	if (jv_object_has(jv_copy(c->index), jv_copy(key))) {
		jv_free(key);
		jv_free(base);
		return;
	}
	c->index = jv_object_set(c->index, key, JV_OBJECT(jv_string("s"),
	    jv_copy(schema), jv_string("b"), base, jv_string("d"),
	    dynamic ? jv_true() : jv_false()));
}

/* Record the resources and anchors of schema and its subschemas in
 * c->index: "URI" and "URI#anchor" -> {s: schema, b: the base URI it
 * is in (before its own "$id"), d: whether a $dynamicAnchor}. */
static void
index_schema(struct check *c, jv schema, jv base, int depth)
{
	static const char *const one[] = {
		"additionalProperties", "additionalItems", "items", "not", "if",
		"then", "else", "contains", "propertyNames", "unevaluatedItems",
		"unevaluatedProperties"
	};
	static const char *const lists[] = {
		"allOf", "anyOf", "oneOf", "prefixItems", "items"
	};
	static const char *const maps[] = {
		"properties", "patternProperties", "$defs", "definitions",
		"dependentSchemas", "dependencies"
	};
	jv id, v, sub, outer;
	size_t i;
	int j;

	if (jv_get_kind(schema) != JV_KIND_OBJECT || depth > MAX_DEPTH ||
	    !spend(c, 1)) {
		jv_free(base);
		return;
	}
	if (jv_object_has(jv_copy(schema), jv_string("unevaluatedItems")) ||
	    jv_object_has(jv_copy(schema),
	    jv_string("unevaluatedProperties")))
		c->track = 1;
	id = json_get(schema, "$id");
	if (c->draft7 && jv_get_kind(id) == JV_KIND_STRING &&
	    jv_string_value(id)[0] == '#' &&
	    !jv_object_has(jv_copy(schema), jv_string("$ref")))
		index_add(c, resolve_uri(jv_string_value(base),
		    jv_string_value(id)), schema, jv_copy(base), 0);
	outer = base;
	base = schema_base(c, schema, jv_copy(outer));
	index_add(c, jv_copy(base), schema, jv_copy(outer), 0);
	for (i = 0; i < 2 && !c->draft7; i++) {
		v = json_get(schema, i ? "$dynamicAnchor" : "$anchor");
		if (jv_get_kind(v) == JV_KIND_STRING)
			index_add(c, jv_string_fmt("%s#%s", jv_string_value(base),
			    jv_string_value(v)), schema, jv_copy(outer), (int)i);
		jv_free(v);
	}
	jv_free(outer);
	jv_free(id);
	for (i = 0; i < sizeof one / sizeof one[0]; i++) {
		v = json_get(schema, one[i]);
		index_schema(c, v, jv_copy(base), depth + 1);
		jv_free(v);
	}
	for (i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		v = json_get(schema, lists[i]);
		for (j = 0; jv_get_kind(v) == JV_KIND_ARRAY &&
		    j < jv_array_length(jv_copy(v)); j++) {
			sub = jv_array_get(jv_copy(v), j);
			index_schema(c, sub, jv_copy(base), depth + 1);
			jv_free(sub);
		}
		jv_free(v);
	}
	for (i = 0; i < sizeof maps / sizeof maps[0]; i++) {
		v = json_get(schema, maps[i]);
		if (jv_get_kind(v) == JV_KIND_OBJECT)
			jv_object_foreach(v, key, s) {
				index_schema(c, s, jv_copy(base), depth + 1);
				jv_free(key);
				jv_free(s);
			}
		jv_free(v);
	}
	jv_free(base);
}

/* The value of hex digit ch, or -1. */
static int
hex_digit(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' :
	    (ch | 0x20) >= 'a' && (ch | 0x20) <= 'f' ? (ch | 0x20) - 'a' + 10 :
	    -1;
}

/* The schema at the JSON Pointer ptr (percent-encoded, as in a URI
 * fragment) from cur (consumed); *base, the base URI cur is in, becomes
 * the one the schema found is in. */
static jv
follow_pointer(struct check *c, jv cur, const char *ptr, jv *base)
{
	struct buf key = {0};
	char ch, *end;
	long i;

	while (*ptr == '/' && jv_is_valid(cur)) {
		if (jv_get_kind(cur) == JV_KIND_OBJECT)
			*base = schema_base(c, cur, *base);
		key.len = 0;
		for (ptr++; *ptr != '\0' && *ptr != '/'; ptr++) {
			ch = *ptr;
			if (ch == '%' && hex_digit(ptr[1]) >= 0 &&
			    hex_digit(ptr[2]) >= 0) {
				ch = (char)(hex_digit(ptr[1]) * 16 +
				    hex_digit(ptr[2]));
				ptr += 2;
			}
			buf_append(&key, &ch, 1);
		}
		buf_append(&key, "", 0);
		/* ~0 and ~1 after percent-decoding */
		for (i = 0; i < (long)key.len; i++)
			if (key.data[i] == '~' && (key.data[i + 1] == '0' ||
			    key.data[i + 1] == '1')) {
				key.data[i] = key.data[i + 1] == '0' ? '~' : '/';
				memmove(key.data + i + 1, key.data + i + 2,
				    key.len - (size_t)i - 1);
				key.len--;
			}
		if (jv_get_kind(cur) == JV_KIND_ARRAY) {
			i = strtol(key.data, &end, 10);
			cur = key.len > 0 && *end == '\0' && i >= 0 ?
			    jv_array_get(cur, (int)i) : (jv_free(cur),
			    jv_invalid());
		} else if (jv_get_kind(cur) == JV_KIND_OBJECT) {
			cur = jv_object_get(cur, jv_string_sized(key.data,
			    (int)key.len));
		} else {
			jv_free(cur);
			cur = jv_invalid();
		}
	}
	buf_free(&key);
	if (*ptr == '\0' && is_schema(cur))
		return cur;
	jv_free(cur);
	return jv_invalid();
}

/* The schema that the absolute URI (borrowed) names (from c->index),
 * its base in *base; jv_invalid() when there is none in this schema. */
static jv
lookup_uri(struct check *c, jv uri, jv *base)
{
	const char *s = jv_string_value(uri), *frag = strchr(s, '#');
	jv entry, r;

	if (frag != NULL && frag[1] != '\0' && frag[1] != '/') {
		entry = jv_object_get(jv_copy(c->index), jv_copy(uri));
	} else {
		entry = jv_object_get(jv_copy(c->index),
		    jv_string_sized(s, frag ? (int)(frag - s) : (int)strlen(s)));
	}
	if (!jv_is_valid(entry)) {
		jv_free(entry);
		return jv_invalid();
	}
	*base = json_get(entry, "b");
	r = json_get(entry, "s");
	jv_free(entry);
	if (frag != NULL && frag[1] == '/')
		r = follow_pointer(c, r, frag + 1, base);
	return r;
}

/* Whether an entry of c->index (borrowed) is a $dynamicAnchor. */
static int
is_dynamic(jv entry)
{
	jv d = json_get(entry, "d");
	int r = jv_get_kind(d) == JV_KIND_TRUE;

	jv_free(d);
	return r;
}

/* For a $dynamicRef to uri (borrowed) whose target is a $dynamicAnchor:
 * the outermost resource of the dynamic scope with a $dynamicAnchor of
 * that name replaces *target and *base. */
static void
dynamic_target(struct check *c, jv uri, jv *target, jv *base)
{
	const char *frag = strchr(jv_string_value(uri), '#');
	jv entry, scope;
	int i, n = jv_array_length(jv_copy(c->scope));

	if (frag == NULL || frag[1] == '/' || frag[1] == '\0')
		return;
	entry = jv_object_get(jv_copy(c->index), jv_copy(uri));
	for (i = is_dynamic(entry) ? 0 : n; i < n; i++) {
		scope = jv_array_get(jv_copy(c->scope), i);
		jv_free(entry);
		entry = jv_object_get(jv_copy(c->index),
		    jv_string_fmt("%s%s", jv_string_value(scope), frag));
		jv_free(scope);
		if (is_dynamic(entry)) {
			jv_free(*target);
			jv_free(*base);
			*target = json_get(entry, "s");
			*base = json_get(entry, "b");
			break;
		}
	}
	jv_free(entry);
}

/* "$ref" and "$dynamicRef": the schema they name applied to inst. */
static void
check_ref(struct check *c, jv schema, jv inst, jv *ev)
{
	jv ref, uri, target, base, saved;
	int dynamic;

	for (dynamic = 0; dynamic < (c->draft7 ? 1 : 2); dynamic++) {
		ref = json_get(schema, dynamic ? "$dynamicRef" : "$ref");
		if (jv_get_kind(ref) == JV_KIND_INVALID)
			continue;
		base = jv_invalid();
		target = jv_invalid();
		if (jv_get_kind(ref) == JV_KIND_STRING) {
			uri = resolve_uri(jv_string_value(c->base),
			    jv_string_value(ref));
			target = lookup_uri(c, uri, &base);
			if (dynamic && jv_is_valid(target))
				dynamic_target(c, uri, &target, &base);
			jv_free(uri);
		}
		if (jv_is_valid(target)) {
			saved = c->base;
			c->base = base;
			base = jv_invalid();
			check_value(c, target, inst, ev);
			jv_free(c->base);
			c->base = saved;
		} else {
			invalid_keyword(c, dynamic ? "$dynamicRef" : "$ref");
		}
		jv_free(base);
		jv_free(target);
		jv_free(ref);
	}
}

/* Every keyword of schema against inst (both borrowed); when inst is
 * valid, the properties or items evaluated are added to *ev. */
static void
check_value(struct check *c, jv schema, jv inst, jv *ev)
{
	jv nullable, saved, local;
	int before = c->nerr, n;

	if (!spend(c, 1) || jv_get_kind(schema) == JV_KIND_TRUE)
		return;
	if (jv_get_kind(schema) == JV_KIND_FALSE) {
		violation(c, "is not allowed");
		return;
	}
	if (jv_get_kind(schema) != JV_KIND_OBJECT) {
		violation(c, "the schema is invalid (%s, not an object)",
		    jv_kind_name(jv_get_kind(schema)));
		return;
	}
	if (c->depth >= MAX_DEPTH) {
		violation(c, "the schema nests too deeply to check (over %d "
		    "levels)", MAX_DEPTH);
		return;
	}
	nullable = json_get(schema, "nullable");
	if (jv_get_kind(nullable) == JV_KIND_TRUE &&
	    jv_get_kind(inst) == JV_KIND_NULL)
		return;
	if (jv_get_kind(nullable) != JV_KIND_INVALID &&
	    jv_get_kind(nullable) != JV_KIND_TRUE &&
	    jv_get_kind(nullable) != JV_KIND_FALSE)
		invalid_keyword(c, "nullable");
	jv_free(nullable);
	c->depth++;
	local = c->track ? jv_object() : jv_invalid();
	saved = c->base;
	c->base = schema_base(c, schema, jv_copy(saved));
	n = jv_array_length(jv_copy(c->scope));
	if (n == 0 || !jv_equal(jv_array_get(jv_copy(c->scope), n - 1),
	    jv_copy(c->base)))	/* a schema resource entered */
		c->scope = jv_array_append(c->scope, jv_copy(c->base));
	if (c->draft7 && jv_object_has(jv_copy(schema), jv_string("$ref"))) {
		check_ref(c, schema, inst, &local);	/* siblings ignored */
	} else if (check_type(c, schema, inst)) {
		check_enum(c, schema, inst);
		switch (jv_get_kind(inst)) {
		case JV_KIND_NUMBER: check_number(c, schema, inst); break;
		case JV_KIND_STRING: check_string(c, schema, inst); break;
		case JV_KIND_ARRAY: check_array(c, schema, inst, &local); break;
		case JV_KIND_OBJECT: check_object(c, schema, inst, &local); break;
		default: break;
		}
		check_ref(c, schema, inst, &local);
		check_combinators(c, schema, inst, &local);
		if (jv_get_kind(inst) == JV_KIND_OBJECT ||
		    jv_get_kind(inst) == JV_KIND_ARRAY)
			check_unevaluated(c, schema, inst, &local);
	}
	if (jv_array_length(jv_copy(c->scope)) > n)
		c->scope = jv_array_slice(c->scope, 0, n);
	jv_free(c->base);
	c->base = saved;
	c->depth--;
	if (ev != NULL && c->track && c->nerr == before)
		*ev = jv_object_merge(*ev, local);
	else
		jv_free(local);
}

/* Whether the schema (borrowed) names draft 7 or an older draft. */
static int
is_old_draft(jv schema)
{
	const char *s = json_get_str(schema, "$schema");

	return s != NULL && strstr(s, "json-schema.org/draft-0") != NULL;
}

jv
schema_check(jv schema, jv instance)
{
	struct check c = {0};

	c.out = jv_array();
	c.steps = MAX_STEPS;
	c.draft7 = jv_get_kind(schema) == JV_KIND_OBJECT &&
	    is_old_draft(schema);
	c.index = jv_object();
	c.base = jv_string("");
	c.scope = jv_array();
	index_schema(&c, schema, jv_string(""), 0);
	if (jv_get_kind(schema) == JV_KIND_OBJECT)
		c.base = schema_base(&c, schema, c.base);
	c.scope = jv_array_append(c.scope, jv_copy(c.base));
	check_value(&c, schema, instance, NULL);
	if (c.steps < 0)
		c.out = jv_array_append(c.out, jv_string("/: the arguments "
		    "are too large or too complex to check"));
	else if (c.too_many)
		c.out = jv_array_append(c.out, jv_string_fmt("/: more "
		    "violations not listed (only the first %d are)",
		    MAX_VIOLATIONS));
	jv_free(c.index);
	jv_free(c.base);
	jv_free(c.scope);
	buf_free(&c.path);
	return c.out;
}
