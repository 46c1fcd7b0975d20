/* Faults of a reply spec, read and applied while sending. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fault.h"
#include "json.h"

void
faults_init(struct faults *f)
{
	memset(f, 0, sizeof *f);
	f->truncate = -1;
}

int
problem(struct buf *why, const char *fmt, ...)
{
	va_list ap;
	jv msg;

	va_start(ap, fmt);
	msg = jv_string_vfmt(fmt, ap);
	va_end(ap);
	why->len = 0;
	buf_append_str(why, jv_string_value(msg));
	jv_free(msg);
	return -1;
}

/* reply[key] as a whole number in [0, max] into out (def when absent). */
static int
get_count(jv reply, const char *key, long max, long def, long *out,
    struct buf *why)
{
	jv v = json_get(reply, key);
	double d;

	*out = def;
	if (!jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return 0;
	}
	if (jv_get_kind(v) != JV_KIND_NUMBER) {
		jv_free(v);
		return problem(why, "%s is not a number", key);
	}
	d = jv_number_value(v);
	jv_free(v);
	if (!(d >= 0 && d <= max) || d != (double)(long)d)
		return problem(why, "%s is not a whole number from 0 to %ld",
		    key, max);
	*out = (long)d;
	return 0;
}

/* One header of the reply as a header line of r. */
static int
add_header_line(struct http_response *r, struct faults *f, jv k, jv v,
    struct buf *why)
{
	const char *name = jv_string_value(k), *value;

	if (!http_is_token(name))
		return problem(why, "headers: bad name \"%s\"", name);
	if (jv_get_kind(v) != JV_KIND_STRING)
		return problem(why, "headers: %s: not a one-line string", name);
	value = jv_string_value(v);
	if (strpbrk(value, "\r\n") || json_string_has_nul(v))
		return problem(why, "headers: %s: not a one-line string", name);
	buf_printf(&r->headers, "%s: %s\r\n", name, value);
	f->own_ctype |= strcasecmp(name, "content-type") == 0;
	return 0;
}

/* The reply's headers as response header lines. */
static int
add_reply_headers(struct http_response *r, struct faults *f, jv reply,
    struct buf *why)
{
	jv h = json_get(reply, "headers"), k, v;
	int it, rc = 0;

	if (!jv_is_valid(h) || jv_get_kind(h) == JV_KIND_NULL) {
		jv_free(h);
		return 0;
	}
	if (jv_get_kind(h) != JV_KIND_OBJECT) {
		jv_free(h);
		return problem(why, "headers is not an object");
	}
	for (it = jv_object_iter(h); rc == 0 && jv_object_iter_valid(h, it);
	    it = jv_object_iter_next(h, it)) {
		k = jv_object_iter_key(h, it);
		v = jv_object_iter_value(h, it);
		if (jv_get_kind(v) == JV_KIND_NUMBER)
			v = jv_dump_string(v, 0);
		rc = add_header_line(r, f, k, v, why);
		jv_free(k);
		jv_free(v);
	}
	jv_free(h);
	return rc;
}

int
faults_read(jv reply, struct http_response *r, struct faults *f,
    struct buf *why)
{
	long status;
	jv drop = json_get(reply, "drop");
	jv_kind dk = jv_get_kind(drop);

	jv_free(drop);
	if (dk != JV_KIND_INVALID && dk != JV_KIND_NULL &&
	    dk != JV_KIND_TRUE && dk != JV_KIND_FALSE)
		return problem(why, "drop is not a boolean");
	f->drop = dk == JV_KIND_TRUE;
	if (get_count(reply, "status", 599, 200, &status, why) < 0 ||
	    get_count(reply, "delay_ms", FAULT_MS_MAX, 0, &f->delay_ms,
	    why) < 0 ||
	    get_count(reply, "chunk_delay_ms", FAULT_MS_MAX, 0,
	    &f->chunk_delay_ms, why) < 0 ||
	    get_count(reply, "chunk_bytes", 1L << 30, 0, &f->chunk_bytes,
	    why) < 0 ||
	    get_count(reply, "truncate", 1L << 30, -1, &f->truncate, why) < 0)
		return -1;
	if (status < 200)
		return problem(why, "status %ld is not from 200 to 599",
		    status);
	r->status = (int)status;
	return add_reply_headers(r, f, reply, why);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void
faults_send(int fd, struct http_response *r, const struct faults *f)
{
	struct buf head = {0};
	size_t len = r->body.len, off, k, piece;

	if (f->delay_ms > 0)
		sleep_ms(f->delay_ms);
	if (f->drop)
		return;
	if (f->own_ctype)
		r->ctype = NULL;
	http_format_head(&head, r, 0, 0);
	if (write_all(fd, head.data, head.len) < 0)
		goto out;
	if (f->truncate >= 0 && (size_t)f->truncate < len)
		len = (size_t)f->truncate;
	piece = f->chunk_bytes > 0 ? (size_t)f->chunk_bytes : len;
	for (off = 0; off < len; off += k) {
		k = len - off < piece ? len - off : piece;
		if (write_all(fd, r->body.data + off, k) < 0)
			break;
		if (f->chunk_delay_ms > 0 && off + k < len)
			sleep_ms(f->chunk_delay_ms);
	}
out:
	buf_free(&head);
}
