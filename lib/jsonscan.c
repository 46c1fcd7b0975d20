/* A validating scan of JSON text, an order of magnitude faster than a
 * parse into jv values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "jsonscan.h"

/* A key of an object being scanned, for the duplicate check: its
 * decoded bytes at off in the key bytes, and where it was written. */
struct key {
	uint64_t hash;
	size_t off, len;
	const char *bytes;          /* set just before sorting */
	const unsigned char *at;    /* its opening quote */
};

/* The keys of the objects open at the moment, innermost last: an
 * object's keys are dropped when it closes, so both arrays grow only
 * with the depth and the widest object. */
struct keys {
	struct key *v;
	size_t n, cap;
	struct buf bytes;
};

struct scan {
	const unsigned char *p, *end;
	int depth;
	struct keys *keys;          /* NULL: duplicates are not looked for */
	const unsigned char *duplicate;
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

int
utf8_check(const char *text, size_t len, size_t *error_at)
{
	struct scan s = {0};

	s.p = (const unsigned char *)text;
	s.end = s.p + len;
	while (s.p < s.end) {
		if (*s.p < 0x80)
			s.p++;
		else if (utf8_sequence(&s) != 0) {
			*error_at = (size_t)(s.p - (const unsigned char *)text);
			return -1;
		}
	}
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

static void
put_utf8(struct buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80)
		u[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f)),
		    n = 2;
	else if (cp < 0x10000)
		u[0] = (char)(0xe0 | cp >> 12),
		    u[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
		    u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	else
		u[0] = (char)(0xf0 | cp >> 18),
		    u[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
		    u[2] = (char)(0x80 | (cp >> 6 & 0x3f)),
		    u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	buf_append(b, u, n);
}

/* Append the decoded text of the valid string p..end (quotes excluded):
 * "p\u0061th" and "path" are the same key. */
static void
decode_string(struct buf *b, const unsigned char *p, const unsigned char *end)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const unsigned char *run = p;
	unsigned cp, lo;

	while (p < end) {
		if (*p != '\\') {
			p++;
			continue;
		}
		buf_append(b, run, (size_t)(p - run));
		if (p[1] == 'u') {
			cp = hexval(p + 2);
			p += 6;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				lo = hexval(p + 2);
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			put_utf8(b, cp);
		} else {
			buf_append(b, &to[strchr(from, p[1]) - from], 1);
			p += 2;
		}
		run = p;
	}
	buf_append(b, run, (size_t)(p - run));
}

static uint64_t
fnv1a64(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n-- > 0) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Record the key between quotes at key..key_end of the innermost object. */
static void
add_key(struct keys *k, const unsigned char *key, const unsigned char *key_end)
{
	struct key *e;

	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 16;
		k->v = xrealloc(k->v, k->cap * sizeof *k->v);
	}
	e = &k->v[k->n++];
	e->off = k->bytes.len;
	decode_string(&k->bytes, key + 1, key_end - 1);
	e->len = k->bytes.len - e->off;
	e->hash = fnv1a64(k->bytes.data + e->off, e->len);
	e->at = key;
}

static int
key_order(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if ((c = memcmp(x->bytes, y->bytes, x->len)) != 0)
		return c;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Are the keys from first on (one object's) all different? Sorting
 * keeps this O(n log n) in the number of keys. Sets s->duplicate to the
 * later of the first pair found, and drops the object's keys. */
static int
keys_unique(struct scan *s, size_t first, size_t first_byte)
{
	struct keys *k = s->keys;
	struct key *v = k->v + first;
	size_t n = k->n - first, i;
	const unsigned char *dup = NULL;

	for (i = 0; i < n; i++)
		v[i].bytes = k->bytes.data + v[i].off;
	if (n > 1)
		qsort(v, n, sizeof *v, key_order);
	for (i = 1; i < n; i++)
		if (v[i].hash == v[i - 1].hash && v[i].len == v[i - 1].len &&
		    memcmp(v[i].bytes, v[i - 1].bytes, v[i].len) == 0 &&
		    (dup == NULL || v[i].at < dup))
			dup = v[i].at;
	k->n = first;
	k->bytes.len = first_byte;
	if (dup == NULL)
		return 0;
	s->duplicate = dup;
	s->p = dup;
	return -1;
}

static int
object(struct scan *s, json_key_fn *on_key, void *ctx)
{
	const unsigned char *key, *key_end, *val;
	size_t first = s->keys ? s->keys->n : 0;
	size_t first_byte = s->keys ? s->keys->bytes.len : 0;

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
		if (s->keys != NULL)
			add_key(s->keys, key, key_end);
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
			return s->keys != NULL ? keys_unique(s, first, first_byte) :
			    0;
		}
		if (*s->p != ',')
			return -1;
		s->p++;
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
		if (*s->p != ',')
			return -1;
		s->p++;
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
json_scan_unique(const char *text, size_t len, size_t *error_at,
    size_t *keylen)
{
	struct keys keys = {0};
	struct scan s = {(const unsigned char *)text,
	    (const unsigned char *)text + len, 0, &keys, NULL};
	int rc = -1;

	skip_space(&s);
	if (value(&s, NULL, NULL) == 0) {
		skip_space(&s);
		if (s.p == s.end)
			rc = 0;
	}
	if (rc != 0 && s.duplicate != NULL) {
		/* The key's closing quote: the first one not escaped. */
		const unsigned char *q = s.duplicate + 1;
		while (*q != '"')
			q += *q == '\\' ? 2 : 1;
		if (keylen != NULL)
			*keylen = (size_t)(q - s.duplicate - 1);
		rc = -2;
	}
	if (rc != 0 && error_at != NULL)
		*error_at = (size_t)(s.p - (const unsigned char *)text);
	free(keys.v);
	buf_free(&keys.bytes);
	return rc;
}

int
json_scan(const char *text, size_t len, json_key_fn *on_key, void *ctx,
    size_t *error_at)
{
	struct scan s = {(const unsigned char *)text,
	    (const unsigned char *)text + len, 0, NULL, NULL};

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
