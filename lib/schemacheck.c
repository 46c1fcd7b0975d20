/*
 * The state of one schema check and what every keyword check uses:
 * violations and their messages, the JSON Pointer of the value checked,
 * the work budget, what was evaluated (for unevaluated*), and checking
 * a value against a subschema apart from the others.
 */
#include <stdarg.h>
#include <string.h>

#include "common.h"
#include "schemacheck.h"

void __attribute__((format(printf, 2, 3)))
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

void
invalid_keyword(struct check *c, const char *kw)
{
	violation(c, "the schema's %s is invalid", kw);
}

/* Spend n units of work; false once the budget is exhausted. */
int
spend(struct check *c, long n)
{
	if (c->steps >= 0)
		c->steps -= n;
	return c->steps >= 0;
}

/* Append "/key", escaped as JSON Pointer, to the path; returns the old
 * length for path_pop. */
size_t
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

void
path_pop(struct check *c, size_t len)
{
	c->path.len = len;
	c->path.data[len] = '\0';
}

/* s (a string, consumed) cut to max bytes and "..." at a character
 * boundary when it is longer. */
jv
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
jv
shown(jv v)
{
	return shorten(jv_dump_string(v, 0), MAX_SHOWN);
}

/* The first MAX_LISTED elements of list (consumed) joined by ", ", as
 * JSON or, when raw, strings as they are. */
jv
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

int
is_schema(jv v)
{
	jv_kind k = jv_get_kind(v);

	return k == JV_KIND_OBJECT || k == JV_KIND_TRUE || k == JV_KIND_FALSE;
}
/* Record that inst's property or item key was evaluated, in *ev, when
 * something asks (unevaluatedProperties, unevaluatedItems). */
void
mark(struct check *c, jv *ev, jv key)
{
	if (c->track && ev != NULL)
		*ev = jv_object_set(*ev, key, jv_true());
	else
		jv_free(key);
}

jv
index_key(int i)
{
	return jv_string_fmt("%d", i);
}

/* The first violation of errs (borrowed) without the path of the value
 * being checked, which the caller's message names. */
jv
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
jv
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
int
matches(struct check *c, jv sub, jv inst, jv *ev)
{
	return jv_array_length(check_apart(c, sub, inst, ev)) == 0;
}
