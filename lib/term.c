/* Text made safe for a terminal: see term.h. */
#include <stdint.h>
#include <string.h>

#include "term.h"

/* The length of the valid UTF-8 sequence at s (at most n bytes) and its
 * code point in *cp; 0 when the bytes there are not valid UTF-8. */
static size_t
utf8_sequence(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points above ASCII that must not reach a terminal as they are:
 * C1 controls, line and paragraph separators, bidirectional controls. */
static int
unsafe_code_point(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
	    (c >= 0x200e && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069) || c == 0x061c;
}

void
term_escape(struct buf *out, const char *s, size_t n, int flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t c;
	char esc[16];

	buf_grow(out, n + 1);
	while (i < n) {
		len = utf8_sequence(p + i, n - i, &c);
		if (len == 0) {
			esc[0] = '\\', esc[1] = 'x';
			esc[2] = hex[p[i] >> 4], esc[3] = hex[p[i] & 15];
			buf_append(out, esc, 4);
			i++;
			continue;
		}
		if (c == '\n' || c == '\t') {
			if (flags & TERM_NEWLINES)
				buf_append(out, p + i, 1);
			else
				buf_append(out, c == '\n' ? "\\n" : "\\t", 2);
		} else if (c == 0x1b) {
			buf_append(out, "\\e", 2);
		} else if (c == '\r') {
			buf_append(out, "\\r", 2);
		} else if (c < 0x20 || c == 0x7f) {
			esc[0] = '\\', esc[1] = 'x';
			esc[2] = hex[c >> 4], esc[3] = hex[c & 15];
			buf_append(out, esc, 4);
		} else if (len > 1 && unsafe_code_point(c)) {
			snprintf(esc, sizeof esc, "\\u{%04x}", (unsigned)c);
			buf_append_str(out, esc);
		} else {
			buf_append(out, p + i, len);
		}
		i += len;
	}
	buf_grow(out, 1);
	out->data[out->len] = '\0';
}

int
term_write(FILE *f, const char *s, size_t n, int flags)
{
	struct buf b = {0};
	int rc = 0;

	term_escape(&b, s, n, flags);
	if (b.len > 0 && fwrite(b.data, 1, b.len, f) != b.len)
		rc = EOF;
	buf_free(&b);
	return rc;
}
