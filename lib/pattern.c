/*
 * ECMA-262 patterns through Oniguruma (libonig, which libjq loads too).
 *
 * Oniguruma 6.9 has no ECMAScript syntax; its Perl_NG syntax with ASCII
 * \w \b is the same language but for a few tokens, which rewrite()
 * spells in Oniguruma's terms before compiling:
 *	$		end of input only (\z), never before a final newline
 *	.		any character but \n \r U+2028 U+2029
 *	\s \S \d \D	ECMA-262's sets, as ranges of code points (\s has
 *			U+FEFF, \d only ASCII digits)
 *	\uHHHH \u{H...}	code points (a surrogate pair is one code point)
 *	[ & in a class	themselves (Oniguruma nests classes, intersects &&)
 *	[] [^]		nothing, anything
 *	\p{Name=Value}	\p{Value}: Oniguruma knows scripts and general
 *			categories by their values (Script_Extensions is
 *			taken as Script)
 * Everything else (classes, \p{...}, \cX, lookaround, back references,
 * named groups, lazy quantifiers) is Oniguruma's own, which agrees, but
 * for two things it cannot do: a lookbehind whose alternatives differ in
 * length or that holds ".*" does not compile, and a back reference to a
 * group that has not matched fails instead of matching "".
 *
 * Each search may backtrack at most MAX_RETRIES times (about 50 ms);
 * past that it answers PATTERN_TOO_COSTLY instead of running on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oniguruma.h>

#include "common.h"
#include "pattern.h"

#define MAX_RETRIES 10000000UL /* backtracking steps of one search */
#define MAX_CACHED 1024        /* patterns kept compiled */
#define BUCKETS 256

struct compiled {
	struct compiled *next;
	char *text;
	size_t len;
	regex_t *re;           /* NULL: the pattern is invalid */
};

static struct compiled *cache[BUCKETS];
static size_t ncached;
static int initialised;
static OnigSyntaxType syntax;
static OnigMatchParam *param;

static void
forget_all(void)
{
	struct compiled *e, *next;
	size_t i;

	for (i = 0; i < BUCKETS; i++) {
		for (e = cache[i]; e != NULL; e = next) {
			next = e->next;
			if (e->re != NULL)
				onig_free(e->re);
			free(e->text);
			free(e);
		}
		cache[i] = NULL;
	}
	ncached = 0;
}

static void
cleanup(void)
{
	forget_all();
	onig_free_match_param(param);
	onig_end();
}

static int
initialise(void)
{
	OnigEncoding enc[] = {ONIG_ENCODING_UTF8};

	if (initialised)
		return 1;
	if (onig_initialize(enc, 1) != ONIG_NORMAL ||
	    (param = onig_new_match_param()) == NULL)
		return 0;
	onig_initialize_match_param(param);
	onig_set_retry_limit_in_match_of_match_param(param, MAX_RETRIES);
	onig_set_retry_limit_in_search_of_match_param(param, MAX_RETRIES);
	onig_copy_syntax(&syntax, ONIG_SYNTAX_PERL_NG);
	atexit(cleanup);
	initialised = 1;
	return 1;
}

static int
hex_value(const char *p, size_t n, unsigned long *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')))
			return 0;
		*v = *v * 16 + (unsigned long)(p[i] <= '9' ? p[i] - '0' :
		    (p[i] | 0x20) - 'a' + 10);
	}
	return 1;
}

static void
append_fmt_cp(struct buf *out, unsigned long cp)
{
	char s[32];

	snprintf(s, sizeof s, "\\x{%lX}", cp);
	buf_append_str(out, s);
}

/* The \u escape at p[i] == 'u' (n bytes in all) as \x{...}; returns the
 * bytes used after the backslash, 0 when it is not one. */
static size_t
rewrite_u(const char *p, size_t n, size_t i, struct buf *out)
{
	unsigned long hi, lo;
	const char *close;

	if (i + 1 < n && p[i + 1] == '{') {
		close = memchr(p + i + 2, '}', n - i - 2);
		if (close == NULL || close == p + i + 2 ||
		    close - (p + i + 2) > 6 ||
		    !hex_value(p + i + 2, (size_t)(close - (p + i + 2)), &hi) ||
		    hi > 0x10FFFF)
			return 0;
		append_fmt_cp(out, hi);
		return (size_t)(close - (p + i)) + 1;
	}
	if (i + 5 > n || !hex_value(p + i + 1, 4, &hi))
		return 0;
	if (hi >= 0xD800 && hi <= 0xDBFF && i + 11 <= n && p[i + 5] == '\\' &&
	    p[i + 6] == 'u' && hex_value(p + i + 7, 4, &lo) &&
	    lo >= 0xDC00 && lo <= 0xDFFF) {
		append_fmt_cp(out, 0x10000 + ((hi - 0xD800) << 10) +
		    (lo - 0xDC00));
		return 11;
	}
	append_fmt_cp(out, hi);
	return 5;
}

/* The ECMA-262 pattern (n bytes at p) in Oniguruma's Perl_NG syntax;
 * 0 when it cannot be. */
static int
rewrite(const char *p, size_t n, struct buf *out)
{
	static const char sets[] = "sSdD";
	static const char *const set_ranges[] = {
		"\\t\\n\\x{B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}"
		    "\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}",
		"\\x{0}-\\x{8}\\x{E}-\\x{1F}\\x{21}-\\x{9F}\\x{A1}-\\x{167F}"
		    "\\x{1681}-\\x{1FFF}\\x{200B}-\\x{2027}\\x{202A}-\\x{202E}"
		    "\\x{2030}-\\x{205E}\\x{2060}-\\x{2FFF}\\x{3001}-\\x{FEFE}"
		    "\\x{FF00}-\\x{10FFFF}",
		"0-9",
		"\\x{0}-/:-\\x{10FFFF}"
	};
	const char *set, *eq;
	int in_class = 0;
	size_t i, used;

	for (i = 0; i < n; i++) {
		if (p[i] == '\\') {
			if (++i == n)
				return 0;
			if ((set = strchr(sets, p[i])) != NULL && *set != '\0') {
				buf_append_str(out, in_class ? "" : "[");
				buf_append_str(out, set_ranges[set - sets]);
				buf_append_str(out, in_class ? "" : "]");
			} else if ((p[i] == 'p' || p[i] == 'P') && i + 1 < n &&
			    p[i + 1] == '{' && (eq = memchr(p + i, '=', n - i))
			    != NULL && memchr(p + i, '}', (size_t)(eq - p) - i)
			    == NULL) {
				buf_append(out, p + i - 1, 3);	/* \p{ */
				i = (size_t)(eq - p);
			} else if (p[i] == 'u') {
				if ((used = rewrite_u(p, n, i, out)) == 0)
					return 0;
				i += used - 1;
			} else {
				buf_append(out, p + i - 1, 2);
			}
		} else if (in_class) {
			if (p[i] == ']')
				in_class = 0;
			if (p[i] == '[' || p[i] == '&')
				buf_append(out, "\\", 1);
			buf_append(out, p + i, 1);
		} else if (p[i] == '[') {
			if (i + 1 < n && p[i + 1] == ']') {
				buf_append_str(out, "(?!)");
				i++;
			} else if (i + 2 < n && p[i + 1] == '^' &&
			    p[i + 2] == ']') {
				buf_append_str(out, "(?s:.)");
				i += 2;
			} else {
				buf_append(out, "[", 1);
				if (i + 1 < n && p[i + 1] == '^')
					buf_append(out, p + ++i, 1);
				if (i + 1 < n && p[i + 1] == ']')
					buf_append_str(out, "\\]"), i++;
				in_class = 1;
			}
		} else if (p[i] == '$') {
			buf_append_str(out, "\\z");
		} else if (p[i] == '.') {
			buf_append_str(out, "[^\\n\\r\\x{2028}\\x{2029}]");
		} else {
			buf_append(out, p + i, 1);
		}
	}
	buf_append(out, "", 0);	/* a string even when empty */
	return 1;
}

/* The compiled pattern, from the cache or compiled into it. */
static struct compiled *
lookup(const char *p, size_t plen)
{
	struct compiled *e;
	struct buf src = {0};
	OnigErrorInfo info;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < plen; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	for (e = cache[h % BUCKETS]; e != NULL; e = e->next)
		if (e->len == plen && memcmp(e->text, p, plen) == 0)
			return e;
	if (ncached >= MAX_CACHED)
		forget_all();
	e = xmalloc(sizeof *e);
	e->re = NULL;
	e->text = xmalloc(plen + 1);
	memcpy(e->text, p, plen);
	e->len = plen;
	if (rewrite(p, plen, &src) &&
	    onig_new(&e->re, (const OnigUChar *)src.data,
	    (const OnigUChar *)src.data + src.len,
	    ONIG_OPTION_CAPTURE_GROUP | ONIG_OPTION_WORD_IS_ASCII,
	    ONIG_ENCODING_UTF8, &syntax,
	    &info) != ONIG_NORMAL)
		e->re = NULL;
	buf_free(&src);
	e->next = cache[h % BUCKETS];
	cache[h % BUCKETS] = e;
	ncached++;
	return e;
}

int
pattern_search(const char *p, size_t plen, const char *s, size_t n)
{
	const OnigUChar *str = (const OnigUChar *)s;
	struct compiled *e;
	int r;

	if (!initialise())
		return PATTERN_INVALID;
	if ((e = lookup(p, plen))->re == NULL)
		return PATTERN_INVALID;
	r = onig_search_with_param(e->re, str, str + n, str, str + n, NULL,
	    ONIG_OPTION_NONE, param);
	if (r >= 0)
		return 1;
	if (r == ONIG_MISMATCH)
		return 0;
	if (r == ONIGERR_RETRY_LIMIT_IN_MATCH_OVER ||
	    r == ONIGERR_RETRY_LIMIT_IN_SEARCH_OVER)
		return PATTERN_TOO_COSTLY;
	return PATTERN_INVALID;
}
