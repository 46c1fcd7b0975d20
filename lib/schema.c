/*
 * Checking tool-call arguments against a tool's JSON Schema.
 *
 * schema_check() applies the part of JSON Schema (draft 2020-12) that
 * function parameters use and returns every violation as a string
 * "PATH: what is wrong", PATH being the JSON Pointer of the offending
 * value ("/" for the root), worded for the model to correct its call.
 * Unknown keywords are ignored; a malformed keyword is reported (when
 * it applies to the value's type), never skipped. Older forms are
 * accepted too: "items" as an array with "additionalItems", boolean
 * "exclusiveMinimum"/"exclusiveMaximum", OpenAPI 3.0's "nullable".
 *
 * Approximations: "pattern" is translated from ECMA-262 syntax into a
 * POSIX extended regular expression (regcomp(3), REG_EXTENDED|REG_NOSUB)
 * matched in the C.UTF-8 locale (bytes when it is missing). \d \w \s,
 * their negations, (?:...), lazy quantifiers, \uHHHH and \xHH are
 * translated; lookaround, backreferences, \p{...}, named groups and
 * ranges with a non-ASCII end make the pattern invalid. "$ref" resolves
 * "#" and "#/..." JSON Pointers through objects of the same schema, as
 * "#/$defs/name" and "#/definitions/name" are. "multipleOf" allows for
 * floating-point rounding.
 *
 * Nested schemas are limited to 64 levels and the work to a fixed
 * budget, so no schema or instance can exhaust the stack or hang the
 * caller.
 */
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "schema.h"

#define MAX_DEPTH 64           /* nested schema applications */
#define MAX_STEPS 100000L      /* units of work per check */
#define MAX_VIOLATIONS 50      /* violations listed */
#define MAX_SHOWN 60           /* bytes of a value quoted in a message */
#define MAX_LISTED 10          /* enum values or property names listed */
#define MAX_GROUPS 32          /* nested groups in a pattern */
#define MAX_REPEAT 1000        /* largest {n,m} in a pattern */
#define MAX_PATTERN_SIZE 2000  /* pattern size with repetitions expanded */

struct check {
	jv root;         /* the whole schema, for $ref */
	jv out;          /* violations found so far */
	struct buf path; /* JSON Pointer of the value being checked */
	int depth;
	long steps;      /* work left; below 0 the check was abandoned */
	int too_many;    /* violations were left out */
	int utf8_tried;
	locale_t utf8;   /* C.UTF-8, for patterns */
};

static void check_value(struct check *c, jv schema, jv inst);

static void __attribute__((format(printf, 2, 3)))
violation(struct check *c, const char *fmt, ...)
{
	va_list ap;
	jv msg;

	if (c->steps < 0)
		return;
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

	if (!isfinite(x))
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

/* Append character cp to an ERE: escaped outside a bracket expression,
 * as a collating symbol inside one when it is special there. */
static void
append_char(struct buf *out, long cp, int in_class)
{
	char ch = (char)cp;
	jv s;

	if (cp >= 0x80) {
		s = jv_string_append_codepoint(jv_string(""), (uint32_t)cp);
		buf_append_str(out, jv_string_value(s));
		jv_free(s);
	} else if (in_class && strchr("]-^[", ch) != NULL) {
		buf_append_str(out, "[.");
		buf_append(out, &ch, 1);
		buf_append_str(out, ".]");
	} else {
		if (!in_class && strchr("\\^$.|?*+()[]{}", ch) != NULL)
			buf_append(out, "\\", 1);
		buf_append(out, &ch, 1);
	}
}

/* Translate the ECMA-262 escape at p (after its backslash, avail bytes
 * left); returns the bytes used, 0 for one POSIX cannot express. */
static size_t
translate_escape(const char *p, size_t avail, struct buf *out,
    int in_class)
{
	static const char names[] = "dwsDWS", ctl_names[] = "tnrfv";
	static const char ctls[] = "\t\n\r\f\v";
	static const char *const sets[] = {"0-9", "A-Za-z0-9_", "[:space:]"};
	const char *set = *p ? strchr(names, *p) : NULL;
	const char *ctl = *p ? strchr(ctl_names, *p) : NULL;
	size_t k = *p == 'u' ? 4 : 2;
	char hex[5] = "";
	long cp;

	if (set != NULL) {
		if (in_class && set - names >= 3)
			return 0;
		buf_append_str(out, in_class ? "" : set - names >= 3 ? "[^" :
		    "[");
		buf_append_str(out, sets[(set - names) % 3]);
		buf_append_str(out, in_class ? "" : "]");
	} else if (ctl != NULL) {
		append_char(out, ctls[ctl - ctl_names], in_class);
	} else if ((*p == 'u' || *p == 'x') && avail > k) {
		memcpy(hex, p + 1, k);
		if (strspn(hex, "0123456789abcdefABCDEF") != k ||
		    (cp = strtol(hex, NULL, 16)) == 0 ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		append_char(out, cp, in_class);
		return k + 1;
	} else if (*p == 'b' && !in_class) {
		buf_append_str(out, "\\b");
	} else if (*p != '\0' && (unsigned char)*p < 0x80 && !isalnum(*p)) {
		append_char(out, *p, in_class);
	} else {
		return 0;
	}
	return 1;
}

/* Translate the character class that starts at p[i] == '['; returns the
 * index of its closing ']', 0 when POSIX cannot express it. */
static size_t
translate_class(const char *p, size_t n, size_t i, struct buf *out)
{
	size_t used;

	buf_append(out, "[", 1);
	if (++i < n && p[i] == '^')
		buf_append(out, &p[i++], 1);
	if (i < n && p[i] == ']')	/* [] and [^] */
		return 0;
	for (; i < n && p[i] != ']'; i++) {
		if (p[i] == '\\') {
			used = ++i < n ?
			    translate_escape(p + i, n - i, out, 1) : 0;
			if (used == 0)
				return 0;
			i += used - 1;
		} else if (p[i] == '[') {
			append_char(out, '[', 1);
		} else {
			buf_append(out, &p[i], 1);
		}
	}
	if (i == n)
		return 0;
	buf_append(out, "]", 1);
	return i;
}

/* Translate an ECMA-262 pattern (n bytes at p, NUL-terminated, no NUL
 * within) into an ERE in out; returns the size of the ERE with
 * repetitions expanded (what regcomp builds), or -1 when POSIX cannot
 * express it or it is too big. */
static long
translate_pattern(const char *p, size_t n, struct buf *out)
{
	long size[MAX_GROUPS + 1] = {0}, last = 0, lo, hi;
	int g = 0, quantifier = 0;
	size_t i, used;
	char *end;

	for (i = 0; i < n; i++) {
		if (strchr("*+?{", p[i]) != NULL && (last == 0 || quantifier) &&
		    (p[i] != '{' || isdigit((unsigned char)p[i + 1])))
			return -1;	/* nothing to repeat */
		quantifier = 0;
		if (p[i] == '\\') {
			used = i + 1 < n ?
			    translate_escape(p + i + 1, n - i - 1, out, 0) : 0;
			if (used == 0)
				return -1;
			i += used;
			size[g] += last = 1;
		} else if (p[i] == '[') {
			if ((i = translate_class(p, n, i, out)) == 0)
				return -1;
			size[g] += last = 1;
		} else if (p[i] == '(') {
			if (g == MAX_GROUPS)
				return -1;
			if (i + 1 < n && p[i + 1] == '?') {	/* (?:x) */
				if (i + 2 == n || p[i + 2] != ':')
					return -1;
				i += 2;
			}
			buf_append(out, "(", 1);
			size[++g] = last = 0;
		} else if (p[i] == ')') {
			if (g == 0)
				return -1;
			buf_append(out, ")", 1);
			last = size[g--] + 1;
			size[g] += last;
		} else if (p[i] == '*' || p[i] == '+' || p[i] == '?') {
			buf_append(out, &p[i], 1);
			if (p[i] == '+') {	/* regcomp copies the atom */
				size[g] += last;
				last *= 2;
			}
			size[g]++;
			last++;
			quantifier = 1;
		} else if (p[i] == '{' && isdigit((unsigned char)p[i + 1])) {
			lo = hi = strtol(p + i + 1, &end, 10);
			if (*end == ',' && end[1] == '}')
				hi = lo + 1;
			else if (*end == ',' && isdigit((unsigned char)end[1]))
				hi = strtol(end + 1, &end, 10);
			if (*end == ',')
				end++;
			if (*end != '}' || hi > MAX_REPEAT || hi < lo)
				return -1;
			buf_append(out, p + i, (size_t)(end - p) - i + 1);
			i = (size_t)(end - p);
			size[g] += last * (hi > 1 ? hi - 1 : 0);
			last *= hi > 1 ? hi : 1;
			quantifier = 1;
		} else if (p[i] == '.') {
			buf_append_str(out, "[^\n\r]");
			size[g] += last = 1;
		} else if (p[i] == '|' || p[i] == '^' || p[i] == '$') {
			buf_append(out, &p[i], 1);
			last = 0;
		} else {
			if ((unsigned char)p[i] < 0x80)
				append_char(out, p[i], 0);
			else
				buf_append(out, &p[i], 1);
			size[g] += last = 1;
		}
		if (quantifier && i + 1 < n && p[i + 1] == '?')
			i++;	/* lazy: a match exists just the same */
		if (size[g] > MAX_PATTERN_SIZE || last > MAX_PATTERN_SIZE)
			return -1;
	}
	return g == 0 ? size[0] + 1 : -1;
}

/* Whether str (a string) matches pattern (a string); -1 when the
 * pattern is invalid or has what POSIX cannot express. */
static int
pattern_matches(struct check *c, jv pattern, jv str)
{
	const char *p = jv_string_value(pattern);
	int plen = jv_string_length_bytes(jv_copy(pattern)), r = -1;
	struct buf ere = {0};
	locale_t saved = (locale_t)0;
	regmatch_t m[1];
	regex_t re;
	long size;

	if (!c->utf8_tried) {
		c->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
		c->utf8_tried = 1;
	}
	buf_append(&ere, "", 0);
	if (memchr(p, '\0', (size_t)plen) != NULL ||
	    (size = translate_pattern(p, (size_t)plen, &ere)) < 0)
		goto out;
	m[0].rm_so = 0;
	m[0].rm_eo = jv_string_length_bytes(jv_copy(str));
	if (!spend(c, 1 + size * ((long)m[0].rm_eo + 1) / 1000))
		goto out;
	if (c->utf8 != (locale_t)0)
		saved = uselocale(c->utf8);
	if (regcomp(&re, ere.data, REG_EXTENDED | REG_NOSUB) == 0) {
		r = regexec(&re, jv_string_value(str), 1, m, REG_STARTEND) == 0;
		regfree(&re);
	}
	if (saved != (locale_t)0)
		uselocale(saved);
out:
	buf_free(&ere);
	return r;
}

/* minLength, maxLength (in characters), pattern for a string. */
static void
check_string(struct check *c, jv schema, jv inst)
{
	jv pat = json_get(schema, "pattern"), s;
	const char *p = jv_string_value(inst);
	int n = jv_string_length_bytes(jv_copy(inst)), i, r;
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
	} else if (jv_get_kind(pat) == JV_KIND_STRING) {
		if ((r = pattern_matches(c, pat, inst)) < 0) {
			invalid_keyword(c, "pattern");
		} else if (r == 0) {
			s = shorten(jv_copy(pat), 200);
			violation(c, "must match the pattern %s",
			    jv_string_value(s));
			jv_free(s);
		}
	}
	jv_free(pat);
}

/* prefixItems, items, additionalItems, minItems, maxItems, uniqueItems
 * for an array. */
static void
check_array(struct check *c, jv schema, jv inst)
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
		check_value(c, sub, item);
		path_pop(c, at);
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
check_property(struct check *c, jv schema, jv key, jv v)
{
	jv props = json_get(schema, "properties");
	jv pats = json_get(schema, "patternProperties");
	jv extra = json_get(schema, "additionalProperties"), sub, list;
	int matched = 0, r;

	if (jv_get_kind(props) == JV_KIND_OBJECT) {
		sub = jv_object_get(jv_copy(props), jv_copy(key));
		if ((matched = jv_is_valid(sub)))
			check_value(c, sub, v);
		jv_free(sub);
	}
	if (jv_get_kind(pats) == JV_KIND_OBJECT)
		jv_object_foreach(pats, pat, psub) {
			r = spend(c, 10) ? pattern_matches(c, pat, key) : 0;
			if (r < 0)
				invalid_keyword(c, "patternProperties");
			else if (r > 0)
				check_value(c, psub, v);
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
		check_value(c, extra, v);
	}
	jv_free(props);
	jv_free(pats);
	jv_free(extra);
}

/* properties, patternProperties, additionalProperties, required,
 * minProperties, maxProperties for an object. */
static void
check_object(struct check *c, jv schema, jv inst)
{
	static const char *const maps[] = {
		"properties", "patternProperties", "additionalProperties"
	};
	jv req = json_get(schema, "required"), keys, key, v, s;
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
	ok = jv_get_kind(req) == JV_KIND_ARRAY;
	for (i = 0; ok && i < jv_array_length(jv_copy(req)); i++) {
		v = jv_array_get(jv_copy(req), i);
		ok = jv_get_kind(v) == JV_KIND_STRING;
		jv_free(v);
	}
	if (jv_get_kind(req) != JV_KIND_INVALID && !ok)
		invalid_keyword(c, "required");
	check_count(c, schema, "minProperties", n, "have", "property",
	    "properties", "");
	check_count(c, schema, "maxProperties", n, "have", "property",
	    "properties", "");
	for (i = 0; ok && i < jv_array_length(jv_copy(req)); i++) {
		key = jv_array_get(jv_copy(req), i);
		if (jv_object_has(jv_copy(inst), jv_copy(key))) {
			jv_free(key);
			continue;
		}
		s = shown(key);
		violation(c, "missing required property %s",
		    jv_string_value(s));
		jv_free(s);
	}
	keys = jv_keys(jv_copy(inst));
	for (i = 0; i < n; i++) {
		key = jv_array_get(jv_copy(keys), i);
		v = jv_object_get(jv_copy(inst), jv_copy(key));
		at = path_push(c, jv_string_value(key),
		    (size_t)jv_string_length_bytes(jv_copy(key)));
		check_property(c, schema, key, v);
		path_pop(c, at);
		jv_free(key);
		jv_free(v);
	}
	jv_free(keys);
	jv_free(req);
}

/* Check inst against sub into a list of its own, which is returned. */
static jv
check_apart(struct check *c, jv sub, jv inst)
{
	jv saved = c->out, errs;
	int too_many = c->too_many;

	c->out = jv_array();
	check_value(c, sub, inst);
	errs = c->out;
	c->out = saved;
	c->too_many = too_many;
	return errs;
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

/* anyOf and oneOf; the message says why the first few schemas fail. */
static void
check_choice(struct check *c, jv schema, jv inst, const char *kw)
{
	jv list = schema_list(c, schema, kw), sub, errs, why, first;
	int one = kw[0] == 'o', n, i, matched = 0, hit[2] = {0, 0};
	size_t plen = c->path.len ? c->path.len : 1;
	const char *path = c->path.len ? c->path.data : "/", *w;

	if (!jv_is_valid(list))
		return;
	n = jv_array_length(jv_copy(list));
	why = jv_string("");
	for (i = 0; i < n && matched < 1 + one; i++) {
		sub = jv_array_get(jv_copy(list), i);
		errs = check_apart(c, sub, inst);
		if (jv_array_length(jv_copy(errs)) == 0) {
			hit[matched++] = i + 1;
		} else if (i < 4) {
			first = jv_array_get(jv_copy(errs), 0);
			w = jv_string_value(first);
			if (strncmp(w, path, plen) == 0 && w[plen] == ':')
				w += plen + 2;
			why = jv_string_concat(why, shorten(n == 1 ?
			    jv_string(w) : jv_string_fmt("%s%d: %s",
			    i ? "; " : "", i + 1, w), 150));
			jv_free(first);
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

/* allOf, anyOf, oneOf, not. */
static void
check_combinators(struct check *c, jv schema, jv inst)
{
	jv all = schema_list(c, schema, "allOf"), not, s;
	int i;

	for (i = 0; jv_is_valid(all) && i < jv_array_length(jv_copy(all));
	    i++) {
		s = jv_array_get(jv_copy(all), i);
		check_value(c, s, inst);
		jv_free(s);
	}
	jv_free(all);
	check_choice(c, schema, inst, "anyOf");
	check_choice(c, schema, inst, "oneOf");
	not = json_get(schema, "not");
	if (jv_get_kind(not) != JV_KIND_INVALID && !is_schema(not)) {
		invalid_keyword(c, "not");
	} else if (jv_is_valid(not) &&
	    jv_array_length(check_apart(c, not, inst)) == 0) {
		s = shown(jv_copy(not));
		violation(c, "must not match the schema %s",
		    jv_string_value(s));
		jv_free(s);
	}
	jv_free(not);
}

/* The schema that ref ("#" or "#/a/b") names in root, or jv_invalid(). */
static jv
resolve_ref(jv root, const char *ref)
{
	struct buf key = {0};
	jv cur = jv_copy(root);
	char ch;

	if (*ref != '#') {
		jv_free(cur);
		return jv_invalid();
	}
	buf_append(&key, "", 0);
	for (ref++; *ref == '/' && jv_get_kind(cur) == JV_KIND_OBJECT;) {
		key.len = 0;
		for (ref++; *ref != '\0' && *ref != '/'; ref++) {
			ch = *ref;
			if (ch == '~' && (ref[1] == '0' || ref[1] == '1'))
				ch = *++ref == '0' ? '~' : '/';
			buf_append(&key, &ch, 1);
		}
		cur = jv_object_get(cur, jv_string_sized(key.data,
		    (int)key.len));
	}
	buf_free(&key);
	if (*ref == '\0' && is_schema(cur))
		return cur;
	jv_free(cur);
	return jv_invalid();
}

/* "$ref", applied along with its sibling keywords as in 2020-12. */
static void
check_ref(struct check *c, jv schema, jv inst)
{
	jv ref = json_get(schema, "$ref"), target;

	if (jv_get_kind(ref) == JV_KIND_INVALID)
		return;
	target = jv_get_kind(ref) == JV_KIND_STRING ?
	    resolve_ref(c->root, jv_string_value(ref)) : jv_invalid();
	if (jv_is_valid(target))
		check_value(c, target, inst);
	else
		invalid_keyword(c, "$ref");
	jv_free(target);
	jv_free(ref);
}

/* Every keyword of schema against inst (both borrowed). */
static void
check_value(struct check *c, jv schema, jv inst)
{
	jv nullable;

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
	if (check_type(c, schema, inst)) {
		check_enum(c, schema, inst);
		switch (jv_get_kind(inst)) {
		case JV_KIND_NUMBER: check_number(c, schema, inst); break;
		case JV_KIND_STRING: check_string(c, schema, inst); break;
		case JV_KIND_ARRAY: check_array(c, schema, inst); break;
		case JV_KIND_OBJECT: check_object(c, schema, inst); break;
		default: break;
		}
		check_ref(c, schema, inst);
		check_combinators(c, schema, inst);
	}
	c->depth--;
}

jv
schema_check(jv schema, jv instance)
{
	struct check c = {0};

	c.root = schema;
	c.out = jv_array();
	c.steps = MAX_STEPS;
	check_value(&c, schema, instance);
	if (c.steps < 0)
		c.out = jv_array_append(c.out, jv_string("/: the arguments "
		    "are too large or too complex to check"));
	else if (c.too_many)
		c.out = jv_array_append(c.out, jv_string_fmt("/: more "
		    "violations not listed (only the first %d are)",
		    MAX_VIOLATIONS));
	if (c.utf8 != (locale_t)0)
		freelocale(c.utf8);
	buf_free(&c.path);
	return c.out;
}
