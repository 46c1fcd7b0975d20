/* A validating scan of JSON text, an order of magnitude faster than a
 * parse into jv values. */
#include <string.h>

#include "jsonscan.h"

struct scan {
	const unsigned char *p, *end;
	int depth;
};

static void
skip_space(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* One UTF-8 sequence that starts with a byte >= 0x80: well formed, no
 * overlong form, no surrogate, at most U+10FFFF. */
static int
utf8_sequence(struct scan *s)
{
	const unsigned char *p = s->p;
	unsigned c = *p, min, cp, n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 1, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, cp = c & 0x07, min = 0x10000;
	else
		return -1;
	if ((size_t)(s->end - p) <= n)
		return -1;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	s->p += n + 1;
	return 0;
}

static int
hex4(const unsigned char *p)
{
	int i;

	for (i = 0; i < 4; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
		    (p[i] >= 'A' && p[i] <= 'F')))
			return -1;
	return 0;
}

static unsigned
hexval(const unsigned char *p)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = v << 4 | (unsigned)(p[i] <= '9' ? p[i] - '0' :
		    (p[i] | 0x20) - 'a' + 10);
	return v;
}

/* \uHHHH at s->p; a surrogate must come as a high-low pair, as libjq
 * (and Unicode) want. */
static int
unicode_escape(struct scan *s)
{
	unsigned cp;

	if (s->end - s->p < 6 || hex4(s->p + 2) != 0)
		return -1;
	cp = hexval(s->p + 2);
	s->p += 6;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
		    hex4(s->p + 2) != 0)
			return -1;
		cp = hexval(s->p + 2);
		if (cp < 0xdc00 || cp > 0xdfff)
			return -1;
		s->p += 6;
	}
	return 0;
}

static int
string(struct scan *s)
{
	s->p++;
	for (;;) {
		/* The common case: plain ASCII, fast. */
		while (s->p < s->end && *s->p >= 0x20 && *s->p < 0x80 &&
		    *s->p != '"' && *s->p != '\\')
			s->p++;
		if (s->p >= s->end)
			return -1;
		if (*s->p == '"') {
			s->p++;
			return 0;
		}
		if (*s->p == '\\') {
			if (s->end - s->p < 2)
				return -1;
			switch (s->p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				s->p += 2;
				break;
			case 'u':
				if (unicode_escape(s) != 0)
					return -1;
				break;
			default:
				return -1;
			}
		} else if (*s->p < 0x20) {
			return -1;
		} else if (utf8_sequence(s) != 0) {
			return -1;
		}
	}
}

static int
digits(struct scan *s)
{
	const unsigned char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start ? 0 : -1;
}

static int
number(struct scan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (digits(s) != 0)
		return -1;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (digits(s) != 0)
			return -1;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (digits(s) != 0)
			return -1;
	}
	return 0;
}

static int
literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return -1;
	s->p += n;
	return 0;
}

static int value(struct scan *s, json_key_fn *on_key, void *ctx);

static int
object(struct scan *s, json_key_fn *on_key, void *ctx)
{
	const unsigned char *key, *key_end, *val;

	s->p++;
	skip_space(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		skip_space(s);
		if (s->p >= s->end || *s->p != '"')
			return -1;
		key = s->p;
		if (string(s) != 0)
			return -1;
		key_end = s->p;
		skip_space(s);
		if (s->p >= s->end || *s->p != ':')
			return -1;
		s->p++;
		skip_space(s);
		val = s->p;
		if (value(s, NULL, NULL) != 0)
			return -1;
		if (on_key != NULL)
			on_key(ctx, (const char *)key + 1,
			    (size_t)(key_end - key - 2), (char)*val,
			    (const char *)val, (size_t)(s->p - val));
		skip_space(s);
		if (s->p >= s->end)
			return -1;
		if (*s->p == '}') {
			s->p++;
			return 0;
		}
		if (*s->p++ != ',')
			return -1;
	}
}

static int
array(struct scan *s)
{
	s->p++;
	skip_space(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		skip_space(s);
		if (value(s, NULL, NULL) != 0)
			return -1;
		skip_space(s);
		if (s->p >= s->end)
			return -1;
		if (*s->p == ']') {
			s->p++;
			return 0;
		}
		if (*s->p++ != ',')
			return -1;
	}
}

static int
value(struct scan *s, json_key_fn *on_key, void *ctx)
{
	int rc;

	if (s->p >= s->end)
		return -1;
	switch (*s->p) {
	case '{':
	case '[':
		if (++s->depth > JSON_SCAN_DEPTH)
			return -1;
		rc = *s->p == '{' ? object(s, on_key, ctx) : array(s);
		s->depth--;
		return rc;
	case '"':
		return string(s);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return number(s);
		return -1;
	}
}

int
json_scan(const char *text, size_t len, json_key_fn *on_key, void *ctx,
    size_t *error_at)
{
	struct scan s = {(const unsigned char *)text,
	    (const unsigned char *)text + len, 0};

	skip_space(&s);
	if (value(&s, on_key, ctx) == 0) {
		skip_space(&s);
		if (s.p == s.end)
			return 0;
	}
	if (error_at != NULL)
		*error_at = (size_t)(s.p - (const unsigned char *)text);
	return -1;
}
