/*
 * References inside a schema: base URIs ("$id", RFC 3986 resolution),
 * the index of resources and anchors ("$anchor", "$dynamicAnchor",
 * draft 7's "$id": "#name"), JSON Pointers, and "$ref" and
 * "$dynamicRef" applied. Nothing is fetched.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "schemacheck.h"
#include "schemaref.h"

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
jv
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
void
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
	return json_get_kind(entry, "d") == JV_KIND_TRUE;
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
void
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
